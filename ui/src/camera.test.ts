import { describe, expect, it } from 'vitest';
import { isBlank } from './camera';

const px = (...rgb: number[][]): Uint8ClampedArray => new Uint8ClampedArray(rgb.flatMap(([r, g, b]) => [r, g, b, 255]));

describe('isBlank', () => {
  it('takes black and near-black frames as blank', () => {
    expect(isBlank(px([0, 0, 0], [0, 0, 0]))).toBe(true);
    expect(isBlank(px([10, 12, 8], [20, 20, 20]))).toBe(true);
  });
  it('takes any real content as a picture', () => {
    expect(isBlank(px([0, 0, 0], [200, 30, 30]))).toBe(false);
    expect(isBlank(px([0, 0, 0], [0, 0, 255]))).toBe(false);
    expect(isBlank(px([40, 40, 40]))).toBe(false);
  });
});
