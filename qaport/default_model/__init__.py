"""The embedded default model: a small DistilBERT QA checkpoint trained here, offline, by ``train.py``.

No model hub is reachable from the project's machines, so the suite runs on this model. It is trained
on a synthetic corpus (``corpus.py``) whose held-out names never occur in training, and must answer the
SQuAD Super Bowl 50 question although that paragraph, its event and its teams were never seen.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKPOINT_DIR = HERE / "checkpoint"
HELDOUT_PATH = HERE / "heldout.json"

SUPER_BOWL_CONTEXT = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football League "
    "(NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the "
    "National Football Conference (NFC) champion Carolina Panthers 24–10 to earn their third Super Bowl title. "
    "The game was played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, "
    'California. As this was the 50th Super Bowl, the league emphasized the "golden anniversary" with various '
    "gold-themed initiatives, as well as temporarily suspending the tradition of naming each Super Bowl game with "
    'Roman numerals (under which the game would have been known as "Super Bowl L"), so that the logo could '
    "prominently feature the Arabic numerals 50."
)
SUPER_BOWL_QUESTION = "Who won the Super Bowl?"
SUPER_BOWL_ANSWER = "Denver Broncos"

__all__ = [
    "CHECKPOINT_DIR",
    "HELDOUT_PATH",
    "SUPER_BOWL_ANSWER",
    "SUPER_BOWL_CONTEXT",
    "SUPER_BOWL_QUESTION",
]
