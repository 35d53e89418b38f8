// A third-party tus 1.0 client (tus-js-client, the tus project's own) uploads a file to
// ikd-server's resumable uploads in chunks, and prints the upload's URL and the
// progress it saw and the requests it made (method, status, Upload-Offset of the
// answer) as JSON on stdout. Run by tests/tests/interop_tus.rs:
//   node upload.mjs <endpoint> <file> <chunk size> [override]
// With `override`, each chunk goes as a POST with X-HTTP-Method-Override: PATCH
// (tus-js-client's overridePatchMethod, for HTTP stacks without PATCH). With
// `with-upload`, the first chunk goes in the creation's body (uploadDataDuringCreation,
// tus creation-with-upload).
import { readFile } from 'node:fs/promises';
import * as tus from 'tus-js-client';

const [endpoint, file, chunk, mode] = process.argv.slice(2);
const data = await readFile(file);
const progress = [];
const requests = [];
const url = await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    endpoint,
    chunkSize: Number(chunk),
    retryDelays: [0, 100, 500],
    metadata: { filename: 'selfie.jpg', filetype: 'image/jpeg' },
    storeFingerprintForResuming: false,
    overridePatchMethod: mode === 'override',
    uploadDataDuringCreation: mode === 'with-upload',
    onAfterResponse: (req, res) =>
      requests.push([req.getMethod(), res.getStatus(), res.getHeader('Upload-Offset') ?? null]),
    onChunkComplete: (_size, accepted, total) => progress.push([accepted, total]),
    onError: reject,
    onSuccess: () => resolve(upload.url),
  });
  upload.start();
});
process.stdout.write(JSON.stringify({ url, progress, requests }) + '\n');
