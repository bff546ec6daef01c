"""Education (R-EDU): articles and micro-lessons. Written by the content helper (issue #8)."""
