"""Practice: quizzes, flashcards, progress, and the learner's sign-in."""
