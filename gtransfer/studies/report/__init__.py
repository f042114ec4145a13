"""Reports of a store: tables (:mod:`.tables`), plots (:mod:`.plots`) and the markdown report (:mod:`.markdown`)."""

from gtransfer.studies.report.markdown import write_report, write_study_report
from gtransfer.studies.report.tables import study_scores, trials_frame

__all__ = ["write_report", "write_study_report", "study_scores", "trials_frame"]
