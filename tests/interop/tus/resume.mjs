// tus-js-client (the tus project's client) interrupted and resumed against ikd-server.
// Run by tests/tests/interop_tus.rs:
//   node resume.mjs <endpoint> <file> <chunk size> <url store file> <fingerprint|url>
// First upload: it creates the upload, sends the first chunk and is aborted right after
// that chunk's answer (abort() without terminating: the upload stays on the server), its
// URL kept in tus-js-client's own file URL store (FileUrlStorage) under the file's
// fingerprint. Second upload, a new Upload of the same bytes: with `fingerprint` it finds
// the first one in that store (findPreviousUploads) and resumes it
// (resumeFromPreviousUpload); with `url` it is given the URL (the `uploadUrl` option).
// Either way it asks the server's offset (HEAD) and sends the rest. Prints JSON: each
// upload's URL, chunk progress and the requests it made (method, status, Upload-Offset
// of the answer).
import { readFile } from 'node:fs/promises';
import * as tus from 'tus-js-client';

const [endpoint, file, chunk, store, mode] = process.argv.slice(2);
const data = await readFile(file);
const urlStorage = new tus.FileUrlStorage(store);

function run(extra, stopAfterFirstChunk, previous = null) {
  const progress = [];
  const requests = [];
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(data, {
      endpoint,
      chunkSize: Number(chunk),
      retryDelays: [0, 100, 500],
      metadata: { filename: 'selfie.jpg', filetype: 'image/jpeg' },
      urlStorage,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onAfterResponse: (req, res) => {
        requests.push([req.getMethod(), res.getStatus(), res.getHeader('Upload-Offset') ?? null]);
      },
      onChunkComplete: (_size, accepted, total) => {
        progress.push([accepted, total]);
        if (stopAfterFirstChunk) {
          // Interrupted: nothing more is sent; the upload stays on the server.
          upload.abort(false).then(() => resolve({ url: upload.url, progress, requests }), reject);
        }
      },
      onError: reject,
      onSuccess: () => resolve({ url: upload.url, progress, requests }),
      ...extra,
    });
    if (previous) {
      upload.resumeFromPreviousUpload(previous);
    }
    upload.start();
  });
}

const first = await run({}, true);
let second;
if (mode === 'fingerprint') {
  const probe = new tus.Upload(data, { endpoint, urlStorage });
  const previous = await probe.findPreviousUploads();
  if (previous.length !== 1) {
    throw new Error(`expected one previous upload in the store, found ${previous.length}`);
  }
  second = await run({}, false, previous[0]);
  second.previous = previous.map((p) => p.uploadUrl);
} else {
  second = await run({ uploadUrl: first.url }, false);
}
process.stdout.write(JSON.stringify({ first, second }) + '\n');
