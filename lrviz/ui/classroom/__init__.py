"""The live class poll: teacher, student and projector views."""
