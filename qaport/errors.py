"""Error classes whose message is the whole story: what was asked, what exists, what to do."""

from __future__ import annotations


class QaportError(Exception):
    """Base of every error the CLIs turn into one ``ERROR ...`` line and a non-zero exit."""

    exit_code = 1


class ModelSourceError(QaportError):
    """``--model`` names something that is not a usable DistilBERT QA checkpoint."""

    exit_code = 2


class UsageError(QaportError):
    """A bad command-line option (unknown format name, bad path)."""

    exit_code = 2


class ConversionError(QaportError):
    """One or more formats failed to convert."""

    exit_code = 1
