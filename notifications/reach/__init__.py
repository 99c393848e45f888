"""Reaching every person: who a notice did not reach, and how each was reached another way
(a postal letter, a call, or a public communication where the law allows one)."""
