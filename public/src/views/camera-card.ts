// The camera: the MJPEG stream only while the card is on screen (so the camera can stop when nobody watches),
// a snapshot, full screen, and the flip/rotate from the settings.
import { $ } from '../dom.js';
import type { Ctx } from '../types.js';

export function initCameraCard(ctx: Ctx): void {
  const card = $('#card-webcam');
  const img = $<HTMLImageElement>('#cam-img');
  const apply = () => {
    const w = ctx.settings()?.webcam;
    card.hidden = !w?.webcamEnabled || !ctx.can('WEBCAM');
    img.classList.toggle('flipH', !!w?.flipH);
    img.classList.toggle('flipV', !!w?.flipV);
    img.classList.toggle('rotate90', !!w?.rotate90);
  };
  apply();
  $<HTMLAnchorElement>('#cam-snapshot').href = ctx.at('/webcam/?action=snapshot').replace(/^\//, '');
  let onScreen = false;
  const update = () => {
    const want = !card.hidden && onScreen && ctx.visible('dashboard');
    if (want && !img.getAttribute('src')) img.src = ctx.at(ctx.settings().webcam.streamUrl).replace(/^\//, '');
    else if (!want && img.getAttribute('src')) img.removeAttribute('src'); // closes the stream
  };
  new IntersectionObserver((entries) => {
    onScreen = entries.some((e) => e.isIntersecting);
    update();
  }).observe(card);
  ctx.onShow('dashboard', update);
  $<HTMLButtonElement>('#cam-full').onclick = () => void img.requestFullscreen?.().catch(() => undefined);
  ctx.onEvent('SettingsUpdated', () =>
    void ctx.reloadSettings().then(() => {
      apply();
      update();
    }),
  );
}
