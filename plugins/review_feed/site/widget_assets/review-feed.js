// review-feed widget loader: turns <div data-review-feed-product="SKU-123"> and
// <div data-review-feed-brand> into the widget published next to this script,
// inside a shadow root (the shop's CSS and the widget's never meet). No
// dependencies, plain ES2017, no cookies. Nothing from a fragment is inserted
// as it is: the widget is rebuilt node by node from an allow-list (elements,
// attributes, http(s) links), so no script, handler or style from a fragment
// can run or reach the shop. Full-line // comments and indentation are
// stripped at build.
(() => {
  "use strict";
  const me = document.currentScript;
  const doc = document;
  if (!me || !me.src || !window.fetch || !window.DOMParser || !doc.adoptedStyleSheets) return;
  const base = me.src;
  const sel = "[data-review-feed-product],[data-review-feed-brand]";
  // reserve the widget's box at once (its height; no padding or border, as the
  // shadow root's :host rule will have): in the <head>, before the placeholders
  // are even parsed, nothing shifts when they fill (a failed one gives it back)
  const reserve = new CSSStyleSheet();
  reserve.replaceSync(":is(" + sel + "):not([data-review-feed-failed]){display:block!important;min-height:var(--rf-height,440px);padding:0!important;border:0!important}");
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, reserve];
  // SHA-256 (FIPS 180-4) of bytes, first 128 bits as hex; crypto.subtle exists
  // only on https pages, this runs everywhere
  const K = [], H = [];
  for (let n = 2, i = 0; i < 64; n++) {
    let p = 1;
    for (let d = 2; d * d <= n; d++) if (n % d == 0) p = 0;
    if (p) {
      if (i < 8) H[i] = n ** 0.5 * 2 ** 32 | 0;
      K[i++] = n ** (1 / 3) * 2 ** 32 | 0;
    }
  }
  const r = (x, n) => x >>> n | x << 32 - n;
  const sha = (bytes) => {
    const m = new Uint8Array(bytes.length + 72 & -64), v = new DataView(m.buffer), w = [];
    let h = H;
    m.set(bytes);
    m[bytes.length] = 128;
    v.setUint32(m.length - 4, bytes.length * 8);
    for (let o = 0; o < m.length; o += 64) {
      let s = h;
      for (let i = 0; i < 64; i++) {
        const x = w[i - 15], y = w[i - 2], [a, b, c, d, e, f, g, k] = s;
        w[i] = i < 16 ? v.getUint32(o + i * 4) : w[i - 16] + (r(x, 7) ^ r(x, 18) ^ x >>> 3) + w[i - 7] + (r(y, 17) ^ r(y, 19) ^ y >>> 10) | 0;
        const t = k + (r(e, 6) ^ r(e, 11) ^ r(e, 25)) + (e & f ^ ~e & g) + K[i] + w[i] | 0;
        s = [t + (r(a, 2) ^ r(a, 13) ^ r(a, 22)) + (a & b ^ a & c ^ b & c) | 0, a, b, c, d + t | 0, e, f, g];
      }
      h = h.map((x, i) => x + s[i] | 0);
    }
    return h.slice(0, 4).map((x) => (x >>> 0).toString(16).padStart(8, "0")).join("");
  };
  // product ref -> path segment, the same three steps as review_feed/site/slugs.py
  const slug = (ref) => {
    const text = ref.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");
    return (text || "p") + "-" + sha(new TextEncoder().encode(ref));
  };
  // the allow-list, applied to every node from the root down: anything else is
  // dropped with its subtree; no style element or attribute is ever copied
  const tags = /^(SECTION|DIV|H[1-6]|P|SPAN|UL|OL|LI|TIME|A|STRONG|EM|B|I|SMALL|BR)$/;
  const attrs = /^(class|lang|role|tabindex|datetime|aria-label|aria-hidden)$/;
  const copy = (n, at) => {
    if (n.nodeType == 3) return doc.createTextNode(n.data);
    if (n.nodeType != 1 || !tags.test(n.tagName)) return null;
    const el = doc.createElement(n.tagName);
    for (const { name, value } of n.attributes) {
      if (attrs.test(name)) el.setAttribute(name, value);
      // how much of the stars or a bar is filled (--r): one number, clamped, set
      // through the CSSOM
      else if (name == "style" && /^--r:\d+(\.\d+)?%$/.test(value)) el.style.setProperty("--r", Math.min(100, parseFloat(value.slice(4))) + "%");
      else if (name == "href" && el.tagName == "A") {
        const u = new URL(value, at);
        if (/^https?:$/.test(u.protocol)) el.href = u.href;
      } else if (name == "target" && value == "_blank") {
        el.target = value;
        el.rel = "noopener";
      }
    }
    for (const c of n.childNodes) {
      const k = copy(c, at);
      if (k) el.append(k);
    }
    return el;
  };
  // the widget's stylesheet: the file next to this script, fetched once per page
  let css;
  const get = (url) => fetch(url, { credentials: "omit" }).then((res) => {
    if (!res.ok) throw Error(res.status);
    return res.text();
  });
  const sheet = () => css || (css = get(new URL("review-feed.css", base)).then((text) => {
    const s = new CSSStyleSheet();
    s.replaceSync(text);
    return s;
  }));
  const load = async (el) => {
    const ref = el.getAttribute("data-review-feed-product");
    const at = new URL(ref === null ? "brand.html" : "products/" + slug(ref) + ".html", base);
    el.setAttribute("aria-busy", "true");
    try {
      const [html, s] = await Promise.all([get(at), sheet()]);
      const frag = new DOMParser().parseFromString(html, "text/html");
      // a server-side include fragment holds the widget in a declarative shadow root
      const t = frag.querySelector("template");
      const w = copy((t ? t.content : frag.body).querySelector(".rf-w") || frag, at);
      if (!w) throw Error("not a widget");
      const root = el.shadowRoot || el.attachShadow({ mode: "open" });
      root.adoptedStyleSheets = [s];
      root.replaceChildren(w);
    } catch (e) {
      // the placeholder's own content (the fallback link) stays, and its space is given back
      el.setAttribute("data-review-feed-failed", "");
    } finally {
      el.removeAttribute("aria-busy");
    }
  };
  const run = () => {
    for (const el of doc.querySelectorAll(sel)) {
      if (!el.hasAttribute("data-review-feed-done")) {
        el.setAttribute("data-review-feed-done", "");
        load(el);
      }
    }
  };
  // pages that add placeholders later (single-page shops) dispatch this event
  doc.addEventListener("review-feed:scan", run);
  if (doc.readyState == "loading") doc.addEventListener("DOMContentLoaded", run);
  else run();
})();
