// A third-party tus 1.0 server (@tus/server with @tus/file-store, the tus project's own
// Node server) on a loopback port, for ikd's client to upload to. Run by
// tests/tests/interop_tus_server.rs:
//   node server.mjs <directory> [relative]
// It stores uploads as files in <directory> (the upload's id is the file's name), is
// mounted at /api/v1/uploads (ikd_proto::wire::paths::UPLOADS), accepts at most
// 204800 bytes (ikd-server's Tus-Max-Size) and lets an upload expire 24 h after its
// creation. With `relative`, Location is a path instead of an absolute URL.
//
// On stdout, one JSON object a line: first {"port": N} once it listens, then, for
// every request as it arrives, {"method", "path", "offset", "length"} (Upload-Offset
// and Content-Length), and {"finished": id, "size": N} when an upload completes. It
// exits when its standard input closes, so the reader gets every line before EOF.
import http from 'node:http';
import { Server, EVENTS } from '@tus/server';
import { FileStore } from '@tus/file-store';

const [directory, mode] = process.argv.slice(2);
const line = (v) => process.stdout.write(JSON.stringify(v) + '\n');

const tus = new Server({
  path: '/api/v1/uploads',
  datastore: new FileStore({
    directory,
    expirationPeriodInMilliseconds: 24 * 60 * 60 * 1000,
  }),
  maxSize: 204800,
  relativeLocation: mode === 'relative',
});
tus.on(EVENTS.POST_FINISH, (_req, _res, upload) =>
  line({ finished: upload.id, size: upload.size }),
);

const server = http.createServer((req, res) => {
  line({
    method: req.method,
    path: req.url,
    offset: req.headers['upload-offset'] ?? null,
    length: req.headers['content-length'] ?? null,
  });
  tus.handle(req, res);
});
server.listen(0, '127.0.0.1', () => line({ port: server.address().port }));
process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
