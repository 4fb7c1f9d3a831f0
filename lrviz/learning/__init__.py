"""Course content, quiz grading, flashcard scheduling and the progress store. No streamlit."""
