// The API reference page: Swagger UI over the document the page names (no inline script).
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("reference");
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
