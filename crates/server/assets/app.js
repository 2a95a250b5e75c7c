// Behaviour that would otherwise need inline handlers, which the CSP forbids.
document.addEventListener("click", (event) => {
  if (!(event.target instanceof Element)) {
    return;
  }
  if (event.target.closest(".print-button")) {
    window.print();
  }
  // A step that cannot be undone asks first (data-confirm holds the question).
  const asking = event.target.closest("[data-confirm]");
  if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
