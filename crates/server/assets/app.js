// Behaviour that would otherwise need inline handlers, which the CSP forbids.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest(".print-button")) {
    window.print();
  }
});
