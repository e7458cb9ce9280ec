/**
 * Runs in the page (harness/clients/browser.ts evaluates this file's text there; it is never imported by Node):
 * page markup makes the request, and the page reports only what a page can know of it — whether the element
 * loaded or failed, and, for an image or a video drawn to a canvas, whether its pixels could be read.
 *
 * spec: { url, initiator: 'font' | 'img' | 'video' | 'script', crossorigin?: 'anonymous', timeoutMs }
 * answer: { loaded: boolean, error?: string, canvas?: 'readable' | 'tainted' | 'no frame' }
 */
// biome-ignore lint/correctness/noUnusedVariables: harness/clients/browser.ts evaluates this file's text and calls it
async function loadByMarkup(spec) {
  const settle = (element, ok, fail) =>
    new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve({ loaded: false, error: `neither ${ok} nor ${fail} within ${spec.timeoutMs} ms` }),
        spec.timeoutMs,
      );
      element.addEventListener(
        ok,
        () => {
          clearTimeout(timer);
          resolve({ loaded: true });
        },
        { once: true },
      );
      element.addEventListener(
        fail,
        () => {
          clearTimeout(timer);
          resolve({
            loaded: false,
            error: `${fail} event${element.error ? ` (MediaError ${element.error.code}: ${element.error.message})` : ''}`,
          });
        },
        { once: true },
      );
    });
  // Draw the element and read one pixel back: a cross-origin resource fetched without CORS taints the canvas,
  // and getImageData then throws SecurityError (https://html.spec.whatwg.org/multipage/canvas.html#security-with-canvas-elements).
  // 'empty' when nothing was drawn: drawImage returns early, without tainting, for a video that has no frame to
  // paint yet. Chromium can fire loadeddata before it has one (the likely cause of a CI flake, not proven), and
  // a canvas that stayed clean then read as 'readable'. The frames of the assets are opaque, so a drawn
  // pixel has alpha 255 and an untouched one alpha 0.
  const canvasOf = (element) => {
    const canvas = document.createElement('canvas');
    canvas.width = 2;
    canvas.height = 2;
    const context = canvas.getContext('2d');
    context.drawImage(element, 0, 0, 2, 2);
    try {
      return context.getImageData(0, 0, 1, 1).data[3] === 0 ? 'empty' : 'readable';
    } catch (error) {
      if (error.name === 'SecurityError') return 'tainted';
      throw error;
    }
  };
  // The element is drawn again until a frame lands on the canvas (or the canvas is tainted): 'no frame' if none
  // did within the time limit, which no case expects, so the check fails saying so rather than reading 'readable'.
  // A loaded image draws at the first try; a video may take a few.
  const frameOf = async (media) => {
    const deadline = Date.now() + spec.timeoutMs;
    for (;;) {
      const drawn = canvasOf(media);
      if (drawn !== 'empty') return drawn;
      if (Date.now() > deadline) return 'no frame';
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  if (spec.initiator === 'font') {
    // An @font-face rule, loaded the way text that uses it would load it.
    const family = `r2cors-${Math.random().toString(36).slice(2)}`;
    const style = document.createElement('style');
    style.textContent = `@font-face { font-family: "${family}"; src: url("${spec.url}"); }`;
    document.head.append(style);
    try {
      await Promise.race([
        document.fonts.load(`16px "${family}"`, 'A').catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, spec.timeoutMs)),
      ]);
      const face = [...document.fonts].find((f) => f.family.replace(/"/g, '') === family);
      if (!face) return { loaded: false, error: 'the @font-face rule made no FontFace' };
      return face.status === 'loaded' ? { loaded: true } : { loaded: false, error: `FontFace status ${face.status}` };
    } finally {
      style.remove();
    }
  }

  if (spec.initiator === 'script') {
    const script = document.createElement('script');
    script.type = 'module';
    script.src = spec.url;
    const done = settle(script, 'load', 'error');
    document.head.append(script);
    try {
      return await done;
    } finally {
      script.remove();
    }
  }

  const element = document.createElement(spec.initiator);
  if (spec.crossorigin) element.crossOrigin = spec.crossorigin;
  if (spec.initiator === 'video') {
    element.muted = true;
    element.preload = 'auto';
  }
  // A video has data at loadeddata, though not always a frame to paint yet (frameOf waits for one).
  const done = settle(element, spec.initiator === 'video' ? 'loadeddata' : 'load', 'error');
  element.src = spec.url;
  document.body.append(element);
  try {
    const result = await done;
    if (!result.loaded) return result;
    return { ...result, canvas: await frameOf(element) };
  } finally {
    element.removeAttribute('src');
    element.remove();
  }
}
