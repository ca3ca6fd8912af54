"""What every page promises, measured in the page itself: tap targets at least 44 px
tall (60 px in care mode), care-mode text at least 18 px, and no sideways scroll on a
360 px phone nor at 200 % zoom (a 180 px wide viewport).

A tap target is a visible link, button, input, select, textarea or summary; a checkbox
or radio button is measured with its label, which is what a finger taps. A link in a
sentence or block of text is not one (WCAG 2.5.5's "inline" exception); a link standing
on its own (the only text of its block, an item of a flex row) or in a nav is."""

from tests.conftest import no_sideways_scroll

PHONE = {"width": 360, "height": 740}
ZOOMED = {"width": 180, "height": 370}
CARE_MIN_TAP_PX = 60
NORMAL_MIN_TAP_PX = 44
CARE_MIN_FONT_PX = 18

MEASURE_JS = """
({minTap, minFont}) => {
  const shown = e => {
    const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
      && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const name = e => {
    const cls = typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
    const text = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim();
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + cls
      + ' "' + text.replace(/\\s+/g, ' ').slice(0, 30) + '"';
  };
  // The block a link's text flows in: its nearest ancestor that is not display:inline.
  const blockOf = e => {
    let p = e.parentElement;
    while (p && getComputedStyle(p).display === 'inline') p = p.parentElement;
    return p || document.body;
  };
  const inTextLink = a => !a.closest('nav') && getComputedStyle(a).display === 'inline'
    && blockOf(a).innerText.trim() !== a.innerText.trim();
  const labelOf = e => e.closest('label')
    || (e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]')) || e;

  const targets = new Set();
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const e of document.querySelectorAll(selector)) {
    if (!shown(e) || (e.matches('a') && inTextLink(e))) continue;
    targets.add(e.matches('input[type=checkbox], input[type=radio]') ? labelOf(e) : e);
  }
  const smallTargets = [...targets]
    .map(e => [e, e.getBoundingClientRect().height])
    .filter(([e, h]) => h < minTap - 0.5)
    .map(([e, h]) => name(e) + ' ' + Math.round(h) + 'px');

  const smallText = [];
  if (minFont) {
    for (const e of document.body.querySelectorAll('*')) {
      const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own || !shown(e)) continue;
      const px = parseFloat(getComputedStyle(e).fontSize);
      if (px < minFont - 0.01) smallText.push(name(e) + ' ' + px + 'px');
    }
    const bodyPx = parseFloat(getComputedStyle(document.body).fontSize);
    if (bodyPx < minFont - 0.01) smallText.unshift('body ' + bodyPx + 'px');
  }
  return {
    care: document.documentElement.classList.contains('care'),
    targets: targets.size,
    smallTargets,
    smallText: smallText.slice(0, 12),
  };
}
"""

# What sticks out past the viewport (or holds text that spills out of its box), for a
# readable failure message.
WIDE_ELEMENTS_JS = """
() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5
      || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
          && getComputedStyle(e).overflowX === 'visible'))
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className
              ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
              + ' right=' + Math.round(e.getBoundingClientRect().right)
              + ' "' + (e.innerText || '').trim().slice(0, 30) + '"');
}
"""


def rule_breaks(page, care: bool) -> tuple[list[str], int]:
    """The rules the page now open in `page` (at the PHONE viewport) breaks, and how
    many tap targets it has. Leaves the viewport at PHONE."""
    min_tap = CARE_MIN_TAP_PX if care else NORMAL_MIN_TAP_PX
    found = page.evaluate(
        MEASURE_JS, {"minTap": min_tap, "minFont": CARE_MIN_FONT_PX if care else 0}
    )
    breaks = []
    if found["care"] is not care:
        breaks.append(f"care mode {'missing' if care else 'shown'}")
    if found["smallTargets"]:
        breaks.append(f"tap targets under {min_tap}px: {found['smallTargets']}")
    if found["smallText"]:
        breaks.append(f"text under {CARE_MIN_FONT_PX}px: {found['smallText']}")
    for name, viewport in (("360px", PHONE), ("200% zoom", ZOOMED)):
        page.set_viewport_size(viewport)
        if not no_sideways_scroll(page):
            breaks.append(f"scrolls sideways at {name}: {page.evaluate(WIDE_ELEMENTS_JS)}")
    page.set_viewport_size(PHONE)
    return breaks, found["targets"]
