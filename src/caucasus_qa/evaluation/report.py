"""Show an eval result: a plain-text table for the terminal, ``report.md`` and PNG charts for a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .questions import QUESTION_TYPES

COLUMNS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "evidence@5", "mean_passage_chars")


def _fmt(v: float, key: str) -> str:
    return f"{v:.0f}" if key == "mean_passage_chars" else f"{v:.3f}"


def _cols(result: dict[str, Any]) -> list[str]:
    return [*COLUMNS[:6], f"evidence@{result['top_k']}", COLUMNS[6]]


def overall_table(result: dict[str, Any]) -> list[list[str]]:
    cols = _cols(result)
    rows = [["system", *cols]]
    for s in result["systems"].values():
        rows.append([s["label"], *(_fmt(s["overall"].get(c, 0.0), c) for c in cols)])
    return rows


def type_table(result: dict[str, Any], metric: str = "hit@5") -> list[list[str]]:
    systems = result["systems"]
    rows = [["type", "n", *(s["label"] for s in systems.values())]]
    first = next(iter(systems.values()))
    for t in QUESTION_TYPES:
        if t not in first["by_type"]:
            continue
        n = int(first["by_type"][t]["n"])
        rows.append(
            [t, str(n), *(_fmt(s["by_type"].get(t, {}).get(metric, 0.0), metric) for s in systems.values())]
        )
    return rows


def answer_type_table(result: dict[str, Any]) -> list[list[str]]:
    """Keyword recall of the answers per question type (absent from results written before it)."""
    per = result.get("keyword_recall_by_type") or {}
    rows = [["type", "n", "keyword recall"]]
    for t in QUESTION_TYPES:
        if t in per:
            rows.append([t, str(int(per[t]["n"])), f"{per[t]['keyword_recall']:.3f}"])
    return rows


SPLIT_COLUMNS = (("train-cv", "train (5-fold CV)"), ("dev", "dev"), ("test", "test"))
ANSWER_ROWS = (
    ("questions", "questions"),
    ("keyword_recall", "keyword recall (answerable)"),
    ("abstention_recall", "abstention on unanswerable"),
    ("false_abstention", "false abstention (answerable)"),
    ("accuracy", "accuracy"),
    ("precision", "precision (correct / answered)"),
)


def split_table(result: dict[str, Any]) -> list[list[str]]:
    """Answer metrics with one column per split: train (cross-validated), dev, test."""
    per = result.get("answers_by_split") or {}
    cols = [(k, label) for k, label in SPLIT_COLUMNS if k in per]
    if not cols:
        return []
    rows = [["answers", *(label for _, label in cols)]]
    for key, label in ANSWER_ROWS:
        cells = [per[k].get(key, 0.0) for k, _ in cols]
        rows.append([label, *(f"{v:.0f}" if key == "questions" else f"{v:.3f}" for v in cells)])
    return rows


def _abstention_line(a: dict[str, Any]) -> str:
    return "abstention precision {:.3f}, recall {:.3f}, false abstention {:.3f} ({:.0f} answered)".format(
        a["abstention_precision"], a["abstention_recall"], a.get("false_abstention", 0.0), a["answered"]
    )


def text_report(result: dict[str, Any]) -> str:
    out = [
        f"{result['questions']} questions ({result['answerable']} answerable), top-k {result['top_k']}",
        "",
    ]
    out += _text_table(overall_table(result))
    for metric in ("hit@5", "mrr@10", "evidence@5"):
        out += ["", f"per type, {metric}:"]
        out += _text_table(type_table(result, metric))
    a = result["answers"]
    out += [
        "",
        "answers (ours): keyword recall {:.3f}, precision {:.3f}, accuracy {:.3f}, ".format(
            a["keyword_recall"], a["precision"], a["accuracy"]
        )
        + _abstention_line(a),
    ]
    per_type = answer_type_table(result)
    if len(per_type) > 1:
        out += ["", "per type, answer keyword recall:", *_text_table(per_type), ""]
    splits = split_table(result)
    if splits:
        out += ["answers by split:", *_text_table(splits), ""]
    lat = result["latency"]
    out.append(
        "latency (warm): retrieve p50 {:.1f} ms, p95 {:.1f} ms; embed question alone p50 {:.1f} ms, "
        "p95 {:.1f} ms; ratio p50 {:.2f}".format(
            lat["retrieve_p50_s"] * 1e3,
            lat["retrieve_p95_s"] * 1e3,
            lat["embed_p50_s"] * 1e3,
            lat["embed_p95_s"] * 1e3,
            lat["ratio_p50"],
        )
    )
    conv = result.get("conversations") or {}
    if conv:
        out.append(
            "conversations: {} follow-ups, hit@5 via chat {:.3f}, of the standalone rewrite {:.3f}".format(
                conv["n"], conv["followup_hit@5"], conv["standalone_hit@5"]
            )
        )
    return "\n".join(out)


def _text_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def cell(i: int, c: str) -> str:
        return c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])

    return ["  ".join(cell(i, c) for i, c in enumerate(r)) for r in rows]


def _md_table(rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return lines


def write_report(result: dict[str, Any], folder: str | Path, command: str = "") -> list[Path]:
    """``report.md`` plus ``hit_at_k.png`` and ``by_type.png``; returns the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    charts = _charts(result, folder)
    md = ["# Retrieval evaluation", ""]
    if command:
        md += ["Reproduce with:", "", "```sh", command, "```", ""]
    md += [
        f"{result['questions']} questions ({result['answerable']} answerable; unanswerable ones only count "
        f"for the answer metrics), top-k {result['top_k']}, same questions and embedder for every system.",
        "",
        "## Retrieval, overall",
        "",
    ]
    md += _md_table(overall_table(result))
    for metric in ("hit@5", "mrr@10", "hit@1", "evidence@5"):
        md += ["", f"## Per type: {metric}", ""]
        md += _md_table(type_table(result, metric))
    a = result["answers"]
    lat = result["latency"]
    md += [
        "",
        "## Answers (ours, through `Assistant.ask`)",
        "",
        "| keyword recall | precision | accuracy | abstention precision | abstention recall "
        "| false abstention | answered |",
        "|---|---|---|---|---|---|---|",
        f"| {a['keyword_recall']:.3f} | {a['precision']:.3f} | {a['accuracy']:.3f} | "
        f"{a['abstention_precision']:.3f} | {a['abstention_recall']:.3f} | "
        f"{a.get('false_abstention', 0.0):.3f} | {a['answered']:.0f} |",
        "",
    ]
    per_type = answer_type_table(result)
    if len(per_type) > 1:
        md += ["Keyword recall per question type:", "", *_md_table(per_type), ""]
    splits = split_table(result)
    if splits:
        md += [
            "By split: the training questions are answered by models fitted on the other four folds "
            "(`caucasus-qa train` fits on all of them); dev chose the features and settings; test is "
            "reported once.",
            "",
            *_md_table(splits),
            "",
        ]
    md += [
        "## Latency (warm, this machine)",
        "",
        "| retrieve p50 | retrieve p95 | embed question p50 | embed question p95 | ratio p50 |",
        "|---|---|---|---|---|",
        f"| {lat['retrieve_p50_s'] * 1e3:.1f} ms | {lat['retrieve_p95_s'] * 1e3:.1f} ms | "
        f"{lat['embed_p50_s'] * 1e3:.1f} ms | {lat['embed_p95_s'] * 1e3:.1f} ms | {lat['ratio_p50']:.2f} |",
    ]
    conv = result.get("conversations") or {}
    if conv:
        md += [
            "",
            "## Conversations",
            "",
            f"{conv['n']} two-turn conversations: hit@5 of the follow-up through `Assistant.chat` "
            f"**{conv['followup_hit@5']:.3f}**; of its standalone rewrite through `ask` "
            f"{conv['standalone_hit@5']:.3f}.",
        ]
    md += [
        "",
        "## Definitions",
        "",
        "A passage covers a gold quote when the quote (normalised: case, punctuation, whitespace) occurs"
        " in it, or when at least 80 % of the smaller of the two sets of word 3-grams is shared (a quote"
        " longer than a passage, or one interleaved with footnote text). For citation questions a "
        "passage's footnote references count as part of it. Metadata quotes (author/date/venue lines "
        "kept out of the body) match any passage of the gold document, since every source carries the "
        "document's record. hit@k: a covering passage in the top k; MRR@10: reciprocal rank of the "
        "first; evidence@k: every quote covered in the top k; nDCG@10: gain = quotes newly covered at a "
        "rank, ideal = one new quote per rank. Latency: `retrieve_s` of `Answer.timings` against "
        "embedding the question alone, both warm, same run. Keyword recall: share of a question's gold "
        "keywords in the answer text (normalised), 0 for an abstention; false abstention: share of "
        "answerable questions abstained on.",
        "",
        *(f"![{p.stem}]({p.name})" for p in charts),
        "",
    ]
    path = folder / "report.md"
    path.write_text("\n".join(md), encoding="utf-8")
    return [path, *charts]


def _charts(result: dict[str, Any], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = result["systems"]
    out: list[Path] = []
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for s in systems.values():
        ks = list(range(1, len(s["curve"]) + 1))
        ax.plot(ks, s["curve"], marker="o", label=s["label"])
    ax.set_xlabel("k")
    ax.set_ylabel("hit@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(range(1, 11))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("hit@k (answerable questions)")
    fig.tight_layout()
    out.append(folder / "hit_at_k.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)

    first = next(iter(systems.values()))
    types = [t for t in QUESTION_TYPES if t in first["by_type"]]
    fig, ax = plt.subplots(figsize=(7.4, 4.2))
    width = 0.8 / max(1, len(systems))
    for i, s in enumerate(systems.values()):
        xs = [j + i * width for j in range(len(types))]
        ax.bar(xs, [s["by_type"].get(t, {}).get("hit@5", 0.0) for t in types], width, label=s["label"])
    ax.set_xticks([j + width * (len(systems) - 1) / 2 for j in range(len(types))], types)
    ax.set_ylabel("hit@5")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("hit@5 per question type")
    fig.tight_layout()
    out.append(folder / "by_type.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    return out
