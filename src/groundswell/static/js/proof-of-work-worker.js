// Solves the sign form's proof-of-work puzzle off the page's thread (started by
// proof-of-work.js; the scheme is described in src/groundswell/lib/proof_of_work.py).
// Given a salt, an email address and a number of bits, it finds the smallest number
// such that SHA-256(salt + first 24 hex digits of SHA-256(email) + number) starts
// with that many zero bits. SHA-256 is written out here rather than taken from
// crypto.subtle: one call per try into subtle's promise machinery is several times
// slower than this loop, and subtle is missing on pages not served over https.
"use strict";

var K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
]);
var START = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
var w = new Int32Array(64);

// Mixes one 64-byte block of `bytes`, from `offset`, into `state`.
function compress(state, bytes, offset) {
  var i, s0, s1, t1, t2;
  for (i = 0; i < 16; i++) {
    var j = offset + 4 * i;
    w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
  }
  for (i = 16; i < 64; i++) {
    var x = w[i - 15], y = w[i - 2];
    s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  var a = state[0], b = state[1], c = state[2], d = state[3];
  var e = state[4], f = state[5], g = state[6], h = state[7];
  for (i = 0; i < 64; i++) {
    s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0;
    d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0; state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0; state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0; state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0; state[7] = (state[7] + h) | 0;
}

// SHA-256 of any bytes, as 64 hexadecimal digits.
function sha256Hex(message) {
  var blocks = Math.ceil((message.length + 9) / 64);
  var bytes = new Uint8Array(blocks * 64);
  bytes.set(message);
  bytes[message.length] = 0x80;
  var bits = message.length * 8;
  var end = bytes.length;
  bytes[end - 4] = (bits >>> 24) & 0xff; bytes[end - 3] = (bits >>> 16) & 0xff;
  bytes[end - 2] = (bits >>> 8) & 0xff; bytes[end - 1] = bits & 0xff;
  bytes[end - 5] = Math.floor(bits / 0x100000000) & 0xff;
  var state = new Int32Array(START);
  for (var offset = 0; offset < bytes.length; offset += 64) { compress(state, bytes, offset); }
  var hex = "";
  for (var i = 0; i < 8; i++) { hex += ("0000000" + (state[i] >>> 0).toString(16)).slice(-8); }
  return hex;
}

// The smallest number completing `prefix` (ASCII, at most 40 characters) to a text
// whose SHA-256 starts with `bits` zero bits (1 to 32). The text always fits one block.
function solve(prefix, bits) {
  var block = new Uint8Array(64);
  var state = new Int32Array(8);
  for (var i = 0; i < prefix.length; i++) { block[i] = prefix.charCodeAt(i); }
  var shift = 32 - bits;
  for (var number = 0; ; number++) {
    var digits = String(number);
    var length = prefix.length + digits.length;
    for (i = 0; i < digits.length; i++) { block[prefix.length + i] = digits.charCodeAt(i); }
    block[length] = 0x80;
    for (i = length + 1; i < 62; i++) { block[i] = 0; }
    block[62] = (length * 8) >>> 8; block[63] = (length * 8) & 0xff;
    state.set(START);
    compress(state, block, 0);
    if ((state[0] >>> shift) === 0) { return { number: digits, tries: number + 1 }; }
  }
}

self.onmessage = function (event) {
  var started = Date.now();
  var email = new TextEncoder().encode(event.data.email);
  var prefix = event.data.salt + sha256Hex(email).slice(0, 24);
  var found = solve(prefix, event.data.bits);
  self.postMessage({
    email: event.data.email, solution: found.number, tries: found.tries,
    milliseconds: Date.now() - started
  });
};
