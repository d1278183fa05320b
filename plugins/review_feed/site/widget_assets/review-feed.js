// review-feed widget loader: turns <div data-review-feed-product="SKU-123"> and
// <div data-review-feed-brand> into the static widget fragment published next
// to this script. No dependencies, plain ES2017, no cookies, never runs code
// from a fragment. Full-line // comments and indentation are stripped at build.
(() => {
  "use strict";
  const me = document.currentScript;
  if (!me || !me.src || !window.fetch || !window.DOMParser) return;
  const base = me.src;
  // product ref -> path segment, the same three steps as review_feed/site/slugs.py
  const slug = (ref) => {
    let h = 0x811c9dc5;
    for (const b of new TextEncoder().encode(ref)) h = Math.imul(h ^ b, 0x01000193);
    const text = ref.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");
    return (text || "p") + "-" + (h >>> 0).toString(16).padStart(8, "0");
  };
  // fragment elements we produce; anything else is dropped, as is every on* attribute
  const ok = /^(SECTION|ARTICLE|HEADER|FOOTER|STYLE|DIV|H[1-6]|P|SPAN|UL|OL|LI|DL|DT|DD|TIME|A|STRONG|EM|B|I|SMALL|BR|HR|BLOCKQUOTE|TABLE|CAPTION|THEAD|TBODY|TR|TH|TD)$/;
  const clean = (root, at) => {
    for (const el of [...root.querySelectorAll("*")]) {
      if (!ok.test(el.tagName)) { el.remove(); continue; }
      for (const a of [...el.attributes]) if (/^on/i.test(a.name)) el.removeAttribute(a.name);
      if (el.hasAttribute("href")) {
        const u = new URL(el.getAttribute("href"), at);
        if (/^https?:$/.test(u.protocol)) el.href = u.href; else el.removeAttribute("href");
      }
    }
  };
  const load = async (el) => {
    const ref = el.getAttribute("data-review-feed-product");
    const at = new URL(ref === null ? "brand.html" : "products/" + slug(ref) + ".html", base);
    el.setAttribute("aria-busy", "true");
    try {
      const res = await fetch(at, { credentials: "omit" });
      if (!res.ok) throw new Error(res.status);
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const root = doc.body.firstElementChild;
      if (!root || !root.classList.contains("rf-w")) throw new Error("not a widget");
      clean(root, at);
      el.replaceChildren(document.adoptNode(root));
    } catch (e) {
      // the fallback link the snippet carries stays in place
    } finally {
      el.removeAttribute("aria-busy");
    }
  };
  const run = () => {
    for (const el of document.querySelectorAll("[data-review-feed-product],[data-review-feed-brand]")) {
      if (!el.hasAttribute("data-review-feed-done")) {
        el.setAttribute("data-review-feed-done", "");
        load(el);
      }
    }
  };
  // pages that add placeholders later (single-page shops) dispatch this event
  document.addEventListener("review-feed:scan", run);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
