// serve.mjs DIR PORT: serves the built dashboard (DIR, the output of
// `observable build`) on 127.0.0.1:PORT, as a static host would: a page's
// clean URL (/attribution) is its .html file, / is index.html.  Only files
// under DIR are served.  dashboard/build.sh starts it; demo/stop.sh stops it.
import {createServer} from "node:http";
import {readFile, stat} from "node:fs/promises";
import {extname, join, normalize, resolve, sep} from "node:path";

const [root, port] = [resolve(process.argv[2] ?? "dist"), Number(process.argv[3] ?? 3000)];
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2"
};

async function file(path) {
  try {
    return (await stat(path)).isFile() ? path : null;
  } catch {
    return null;
  }
}

createServer(async (request, response) => {
  const url = new URL(request.url, "http://localhost");
  const path = normalize(join(root, decodeURIComponent(url.pathname)));
  if (path !== root && !path.startsWith(root + sep)) {
    response.writeHead(403).end();
    return;
  }
  const found =
    (await file(path)) ?? (await file(`${path}.html`)) ?? (await file(join(path, "index.html")));
  if (!found) {
    response.writeHead(404, {"content-type": "text/plain"}).end("not found\n");
    return;
  }
  response.writeHead(200, {"content-type": types[extname(found)] ?? "application/octet-stream"});
  response.end(await readFile(found));
}).listen(port, "127.0.0.1", () => console.log(`serving ${root} on http://127.0.0.1:${port}/`));
