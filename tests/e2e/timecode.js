// timecode.js — the latency harness's visual clock: a wall-clock time in ms painted as 64 black/white
// blocks (48 bits of time + a 16-bit CRC), big enough to survive H.264 at a few hundred kbit/s.
//
// Classic script (the harness injects it into the watch page): defines globalThis.GcTimecode.
// Layout on a WIDTH x HEIGHT canvas: 8 columns x 8 rows of 40 x 22 px blocks from (0, 2), row-major,
// most significant bit first; white = 1. Bits 0-47: the time, bits 48-63: CRC-16/CCITT of its 6 bytes.

(function () {
  'use strict';

  const WIDTH = 320;
  const HEIGHT = 180;
  const COLS = 8;
  const ROWS = 8;
  const BW = WIDTH / COLS;     // 40
  const BH = 22;
  const TOP = (HEIGHT - ROWS * BH) / 2; // 2

  function crc16(bytes) {
    let crc = 0xffff;
    for (const b of bytes) {
      crc ^= b << 8;
      for (let i = 0; i < 8; i++)
        crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
  }

  function timeBytes(ms) {
    const bytes = [];
    let v = ms;
    for (let i = 0; i < 6; i++) {
      bytes.unshift(v % 256);
      v = Math.floor(v / 256);
    }
    return bytes;
  }

  function toBits(ms) {
    const bytes = timeBytes(ms);
    const crc = crc16(bytes);
    const all = [...bytes, crc >> 8, crc & 0xff];
    const bits = [];
    for (const b of all)
      for (let i = 7; i >= 0; i--)
        bits.push((b >> i) & 1);
    return bits;
  }

  /** Paints @ms (integer, < 2^48) on a 2D context. */
  function paint(ctx, ms) {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    ctx.fillStyle = '#fff';
    toBits(ms).forEach((bit, i) => {
      if (bit)
        ctx.fillRect((i % COLS) * BW, TOP + Math.floor(i / COLS) * BH, BW, BH);
    });
  }

  /**
   * Reads the time back from RGBA pixels of a WIDTH x HEIGHT image.
   * Returns the time in ms, or null when the CRC does not match (a frame
   * caught mid-change, or too damaged to trust).
   */
  function decode(data) {
    const bytes = [];
    let byte = 0;
    for (let i = 0; i < COLS * ROWS; i++) {
      // The middle half of the block: edges ring after compression.
      const x0 = (i % COLS) * BW + BW / 4;
      const y0 = TOP + Math.floor(i / COLS) * BH + Math.floor(BH / 4);
      let sum = 0;
      let n = 0;
      for (let y = y0; y < y0 + BH / 2; y += 2) {
        for (let x = x0; x < x0 + BW / 2; x += 2) {
          const p = (y * WIDTH + x) * 4;
          sum += data[p] + data[p + 1] + data[p + 2];
          n += 3;
        }
      }
      byte = (byte << 1) | (sum / n > 127 ? 1 : 0);
      if (i % 8 === 7) {
        bytes.push(byte);
        byte = 0;
      }
    }
    const crc = (bytes[6] << 8) | bytes[7];
    if (crc16(bytes.slice(0, 6)) !== crc)
      return null;
    return bytes.slice(0, 6).reduce((v, b) => v * 256 + b, 0);
  }

  globalThis.GcTimecode = { WIDTH, HEIGHT, paint, decode };
})();
