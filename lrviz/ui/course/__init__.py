"""The course: the lesson page, its sections, examples, glossary, read-aloud, course map."""
