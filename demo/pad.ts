// A w×h drawing pad (mouse, pen or touch), shown large. Strokes are drawn with
// a soft round brush about as wide as an MNIST pen stroke.
import { drawImages } from './render';

export class DrawPad {
  pixels: Float32Array;
  /** Set on every change; the page clears it when it has evaluated the model. */
  dirty = true;
  private lastPoint?: { x: number; y: number };

  constructor(
    readonly canvas: HTMLCanvasElement,
    public width: number,
    public height: number,
  ) {
    this.pixels = new Float32Array(width * height);
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.lastPoint = undefined;
      this.stroke(e);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (e.buttons === 0 && e.pointerType === 'mouse') return;
      if (!canvas.hasPointerCapture(e.pointerId)) return;
      for (const ev of e.getCoalescedEvents?.() ?? [e]) this.stroke(ev);
    });
    const end = (e: PointerEvent): void => {
      this.lastPoint = undefined;
      if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    this.redraw();
  }

  resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.pixels = new Float32Array(width * height);
    this.changed();
  }

  clear(): void {
    this.pixels.fill(0);
    this.changed();
  }

  setImage(img: ArrayLike<number>): void {
    this.pixels.set(img);
    this.changed();
  }

  private changed(): void {
    this.dirty = true;
    this.redraw();
  }

  redraw(): void {
    drawImages(this.canvas, this.pixels, 1, this.width, this.height, { pad: 0 });
  }

  private stroke(e: PointerEvent): void {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * this.width;
    const y = ((e.clientY - r.top) / r.height) * this.height;
    const from = this.lastPoint ?? { x, y };
    const dist = Math.hypot(x - from.x, y - from.y);
    const steps = Math.max(1, Math.ceil(dist / 0.25));
    for (let s = 1; s <= steps; s++) this.dab(from.x + ((x - from.x) * s) / steps, from.y + ((y - from.y) * s) / steps);
    this.lastPoint = { x, y };
    this.changed();
  }

  /** A soft round dab centred at (cx, cy) in pixel units. */
  private dab(cx: number, cy: number): void {
    const radius = Math.max(1, Math.min(this.width, this.height) / 28) * 1.15;
    const feather = 0.9;
    const x0 = Math.max(0, Math.floor(cx - radius - feather));
    const x1 = Math.min(this.width - 1, Math.ceil(cx + radius + feather));
    const y0 = Math.max(0, Math.floor(cy - radius - feather));
    const y1 = Math.min(this.height - 1, Math.ceil(cy + radius + feather));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        const v = Math.min(1, Math.max(0, (radius + feather - d) / feather));
        const i = y * this.width + x;
        if (v > this.pixels[i]) this.pixels[i] = v;
      }
    }
  }
}
