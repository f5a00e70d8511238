// Building the page's DOM without innerHTML: text is always a text node, never markup, so a value
// from the server or the applicant can never become script (the CSP forbids inline code anyway).

/** h('p', {class: 'x', on: {click: fn}}, 'text', child…): an element; null/false children skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** The same for SVG elements (charts). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'style') {
      throw new Error('inline styles are forbidden by the CSP: use a class');
    } else if (k === 'value' && 'value' in el && !(el instanceof SVGElement)) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'required') {
      el[k] = Boolean(v);
      if (k !== 'checked' && k !== 'selected') el.setAttribute(k, '');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Removes every child (sign-out and screen changes leave nothing of the previous screen). */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** An id usable in the DOM for a record path such as "household.size" or "children.0.name". */
export function fieldId(path) {
  return 'f-' + path.replace(/[^A-Za-z0-9_-]/g, '-');
}
