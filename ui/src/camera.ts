// Capturing one frame from a live camera <video>: wait until it plays, then take the
// first frame that is not all black (cameras, and WebKitGTK's mock device, start dark).

/** How long the capture waits for the camera to give a picture that is not all black. */
const GRAB_DEADLINE_MS = 6000;

/** Resolves once the video has decoded data and has its size (or the deadline passes). */
function videoReady(video: HTMLVideoElement, deadline: number): Promise<boolean> {
  const ready = () => video.readyState >= 2 && video.videoWidth > 0 && video.videoHeight > 0;
  if (ready()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      if (!ready() && Date.now() < deadline) return;
      clearInterval(poll);
      ['loadeddata', 'playing', 'resize', 'canplay'].forEach((e) => video.removeEventListener(e, done));
      resolve(ready());
    };
    ['loadeddata', 'playing', 'resize', 'canplay'].forEach((e) => video.addEventListener(e, done));
    // Some engines fire none of these for a live stream: look again on a short interval.
    const poll = setInterval(done, 100);
  });
}

/** Resolves on the next frame the video presents (or the next paint where that API is missing). */
function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const once = () => { if (!settled) { settled = true; resolve(); } };
    const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(once);
    requestAnimationFrame(() => requestAnimationFrame(once));
    setTimeout(once, 250);
  });
}

/** True when the picture is uniformly black (or nearly): the camera has not delivered yet. */
export function isBlank(px: Uint8ClampedArray): boolean {
  let max = 0;
  for (let i = 0; i < px.length; i += 4) {
    const y = (px[i] * 299 + px[i + 1] * 587 + px[i + 2] * 114) / 1000;
    if (y > max) max = y;
    if (max > 24) return false;
  }
  return true;
}

/**
 * Draws frames from the live video until one is not all black, within
 * GRAB_DEADLINE_MS. Returns the JPEG data URL, or null when the camera gave nothing.
 */
export async function grabFrame(video: HTMLVideoElement): Promise<string | null> {
  const deadline = Date.now() + GRAB_DEADLINE_MS;
  if (!(await videoReady(video, deadline))) return null;
  const canvas = document.createElement('canvas');
  const probe = document.createElement('canvas');
  probe.width = 32;
  probe.height = 24;
  const p2d = probe.getContext('2d', { willReadFrequently: true });
  const c2d = canvas.getContext('2d');
  if (!c2d || !p2d) return null;
  do {
    await nextFrame(video);
    const w = video.videoWidth;
    const hh = video.videoHeight;
    if (!w || !hh) continue;
    canvas.width = w;
    canvas.height = hh;
    c2d.drawImage(video, 0, 0, w, hh);
    p2d.drawImage(canvas, 0, 0, probe.width, probe.height);
    if (!isBlank(p2d.getImageData(0, 0, probe.width, probe.height).data)) {
      return canvas.toDataURL('image/jpeg', 0.9);
    }
  } while (Date.now() < deadline);
  return null;
}
