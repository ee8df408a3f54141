// Page behaviour for the chat UI, loaded through launch(head=...).

// "Copy" links inside answers (<a class="cqa-copy" href="#cqa-copy-tN">). The chat's sanitizer strips
// inline handlers and data attributes, so one delegated listener rebuilds the text from the page:
// the answer as shown, then the numbered sources of that turn from the source cards.
document.addEventListener("click", async (event) => {
  const link = event.target instanceof Element ? event.target.closest("a.cqa-copy") : null;
  if (!link) return;
  event.preventDefault();
  const turn = (link.getAttribute("href") || "").replace("#cqa-copy-t", "");
  const message = link.closest(".message-content") || link.parentElement?.parentElement || document.body;
  const body = message.querySelector(".cqa-answer, .cqa-abstain");
  const lines = [body ? body.innerText.trim() : ""];
  const cards = document.querySelectorAll(`[id^="cqa-t${turn}-s"]`);
  if (cards.length) lines.push("");
  cards.forEach((card) => {
    const title = card.querySelector("summary")?.innerText.trim() || "";
    const byline = card.querySelector(".cqa-byline")?.innerText.replace(/\s*score\s+[\d.]+\s*$/, "").trim() || "";
    lines.push(byline ? `${title} — ${byline}` : title);
  });
  const text = lines.join("\n");
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const label = link.textContent;
  link.textContent = "Copied";
  setTimeout(() => { link.textContent = label; }, 1500);
});

// A clicked [n] marker opens its source card (and the folded turn around it) before the jump.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a.cqa-marker") : null;
  if (!link) return;
  const card = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!card) return;
  for (let el = card; el; el = el.parentElement?.closest("details")) el.open = true;
});
