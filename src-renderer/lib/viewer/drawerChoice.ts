import type { ViewerRenderer } from '../../../src-main/contract/schemas';

type Drawer = 'webgl' | 'canvas';

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i;

/** True when this browser has WebGL but draws it on the CPU (no usable GPU). */
export function webGlIsSoftware(): boolean {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (!gl) return false;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return SOFTWARE_RENDERERS.test(renderer);
}

/**
 * OpenSeadragon drawers to try, in order. WebGL draws tiles at their exact size; software
 * WebGL is an order of magnitude slower than the canvas, so 'auto' avoids it.
 */
export function drawersFor(setting: ViewerRenderer): Drawer[] {
  if (setting === 'canvas') return ['canvas'];
  if (setting === 'webgl') return ['webgl', 'canvas'];
  return webGlIsSoftware() ? ['canvas'] : ['webgl', 'canvas'];
}
