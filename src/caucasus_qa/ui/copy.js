// Copy buttons inside answers (<button class="cqa-copy" data-copy="...">). Inline handlers are
// stripped by the chat's sanitizer, so one delegated listener does the work.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest(".cqa-copy") : null;
  if (!button) return;
  event.preventDefault();
  const text = button.getAttribute("data-copy") || "";
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
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
});
