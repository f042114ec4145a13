"""The claims table of docs/results.md: one row per rule with its verdict, units, the truth's reliability, its
placebos, its stability and its page; the graph rules first, then the timing rules, then the image rules."""

from __future__ import annotations

from collections.abc import Mapping

from gtransfer.evaluation import ClaimVerdict, Stability
from gtransfer.studies.claims.common import said

#: the new truths' rows (label, rule, page), in the table's order; a truth whose reports are absent has none
_TRUTH_ROWS = (("(a) H_alpha beats H-score, fine-tuning truth, 3 seeds", "a-truth", "claim-a"),
               ("(b) competitive with LogME, fine-tuning truth, 3 seeds", "b-truth", "claim-b"),
               ("(d) NCE, corrected, disjoint heads, balanced truth", "d-nce-truth", "claim-d"),
               ("(d) LEEP, corrected, disjoint heads, balanced truth", "d-leep-truth", "claim-d"),
               ("(a) H_alpha beats H-score, large fine-tuning truth, 3 seeds", "a-truth-large", "claim-a"),
               ("(b) competitive with LogME, large fine-tuning truth, 3 seeds", "b-truth-large", "claim-b"),
               ("(a) H_alpha beats H-score, full fine-tuning truth, 3 seeds", "a-truth-full", "claim-a"),
               ("(b) competitive with LogME, full fine-tuning truth, 3 seeds", "b-truth-full", "claim-b"),
               ("(d) NCE, corrected, full target truth", "d-nce-truth-full", "claim-d"),
               ("(d) LEEP, corrected, full target truth", "d-leep-truth-full", "claim-d"))
#: the image rules' rows (label, rule, page)
_IMAGE_ROWS = (("(a) H_alpha beats H-score, images", "a-vision", "claim-a-vision"),
               ("(a') gain larger at small n/d, images", "a'-vision", "claim-a-vision"),
               ("(b) competitive with LogME, images (fine-tuning)", "b-vision", "claim-b-vision"),
               ("(d) NCE only through H(Y), old rule, images", "d-old-vision", "claim-d-vision"),
               ("(d) NCE, corrected, images", "d-nce-vision", "claim-d-vision"),
               ("(d) LEEP, corrected, images", "d-leep-vision", "claim-d-vision"))


def _placebo_text(result: ClaimVerdict) -> str:
    if result.broken:
        return f"**broken: {', '.join(result.broken_by)} pass(es)**"
    return "all fail (" + ", ".join(result.placebos) + ")"


def _row(label: str, name: str, result: ClaimVerdict, stability: Stability | None, reliability: str,
         page: str) -> str:
    stab = f"{stability.same_verdict}/{stability.setups} setups" if stability is not None else "-"
    return (f"| {label} | `{name}` | **{said(result)}** | {result.interval.units()} | {reliability} | "
            f"{_placebo_text(result)} | {stab} | [{page}](results/claims/{page}.md) |")


def summary_table(source: Mapping, c: Mapping, d: Mapping, *, truths: Mapping | None = None,
                  vision: Mapping | None = None) -> str:
    """The claims table of docs/results.md: verdict, units, reliability, placebos, stability per rule; the new
    truths' rows (``truths``) and the image rules' rows (``vision``, from
    :func:`~gtransfer.studies.claims.vision.vision_pages`) after the graph rows."""
    rows = ["| claim | rule | verdict | units | truth's reliability | placebos | stability | page |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    probe = "none measurable (probe, no seeds)"
    specs = [("(a) H_alpha beats H-score", "a", source["a"], probe, "claim-a"),
             ("(a') gain larger at small n/d", "a'", source["a'"], probe, "claim-a"),
             ("(b) competitive with LogME, probe", "b-probe", source["b-probe"], probe, "claim-b"),
             ("(b) competitive with LogME, fine-tuning", "b-finetune", source["b-finetune"],
              "none measurable (1 seed)", "claim-b"),
             ("(d) NCE only through H(Y), old rule", "d-old", d["d-old"], d["reliability"], "claim-d"),
             ("(d) NCE, corrected (partial given H(Y))", "d-nce", d["d-nce"], d["reliability"], "claim-d"),
             ("(d) LEEP, corrected", "d-leep", d["d-leep"], d["reliability"], "claim-d")]
    truths = truths or {}
    for label, name, page in _TRUTH_ROWS:
        if name in truths:
            reliability = truths.get(f"{name}-reliability", truths.get("reliability", "-"))
            specs.append((label, name, truths[name], reliability, page))
    rows += [_row(label, name, result, stability, reliability, page)
             for label, name, (result, stability), reliability, page in specs]
    for name, label in (("c-published", "(c) 3-10x faster, LogME as published"),
                        ("c-project", "(c) 3-10x faster, gtransfer's LogME")):
        verdict, interval, placebo, stability = c[name]
        rows.append(f"| {label} | `{name}` | **{verdict}** ({interval.estimate:.2f}x) | {interval.units()} | "
                    "timing, no truth | rerun placebo "
                    f"{'**passes: broken**' if placebo == 'reproduced' else 'fails'} | "
                    f"{stability.same_verdict}/{stability.setups} setups | [claim-c](results/claims/claim-c.md) |")
    for label, name, page in _IMAGE_ROWS if vision else ():
        result, stability, reliability = vision[name]
        rows.append(_row(label, name, result, stability, reliability, page))
    return "\n".join(rows) + "\n"
