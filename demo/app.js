// The demo page: a chat over the browser's own WebSocket, and the frame log of this
// connection as the server decodes it (Server-Sent Events from /frames?id=…).
// No framework; every text from the network goes in with textContent.

const $ = (id) => document.getElementById(id);
const statusEl = $('status');
const whoEl = $('who');
const messagesEl = $('messages');
const textEl = $('text');
const framesEl = $('frame-log').tBodies[0];
const frameCountEl = $('frame-count');

/** Rows kept in the frame table. */
const MAX_ROWS = 300;
/** The binary message asking the server for a Ping (see demo/server.ts). */
const PING_ME = new Uint8Array([0x01]);

let socket = null;
let events = null;
let frameCount = 0;
/** This page's name in the room (from `welcome`): chat lines from it are its own, echoed. */
let myName = null;

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
  const open = state === 'open';
  for (const id of ['send', 'ping', 'close']) $(id).disabled = !open;
  textEl.disabled = !open;
  $('reconnect').disabled = state !== 'closed';
}

function addMessage(kind, text, from) {
  const li = document.createElement('li');
  li.className = kind;
  if (from !== undefined) {
    const name = document.createElement('span');
    name.className = 'from';
    name.textContent = from;
    li.append(name);
  }
  li.append(text);
  messagesEl.append(li);
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

function cell(text, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = text;
  return td;
}

function addFrame(f) {
  const tr = document.createElement('tr');
  tr.dataset.dir = f.dir;
  tr.dataset.op = f.name;
  if (f.opcode >= 8) tr.className = 'control';
  if (f.error) tr.className = 'bad';
  const time = new Date(f.at).toTimeString().slice(0, 8) + '.' + String(f.at % 1000).padStart(3, '0');
  const hex = cell('', 'hex');
  const bytes = document.createElement('span');
  bytes.className = 'bytes';
  bytes.textContent = f.error ? `refused: ${f.error}` : (f.hex || '(empty)') + (f.length > 16 ? ' …' : '');
  hex.append(bytes);
  hex.title = bytes.textContent;
  if (f.text) {
    const preview = document.createElement('span');
    preview.className = 'text';
    preview.textContent = `“${f.text}${f.text.length < f.length ? '…' : ''}”`;
    hex.append(preview);
  }
  tr.append(
    cell(time),
    cell(f.dir === 'in' ? '→ in' : '← out', `dir ${f.dir}`),
    cell(`${f.name}${f.opcode >= 0 ? ` (0x${f.opcode.toString(16)})` : ''}`, 'op'),
    cell(f.fin ? '1' : '0'),
    cell(f.masked ? '1' : '0'),
    cell(String(f.length), 'num'),
    hex,
  );
  framesEl.prepend(tr);
  while (framesEl.rows.length > MAX_ROWS) framesEl.deleteRow(-1);
  frameCount++;
  frameCountEl.textContent = `${frameCount} frame${frameCount === 1 ? '' : 's'}`;
}

function followFrames(id) {
  events?.close();
  events = new EventSource(`/frames?id=${encodeURIComponent(id)}`);
  events.onmessage = (e) => addFrame(JSON.parse(e.data));
  // The server ends the stream once the connection is closed: do not let EventSource retry.
  events.addEventListener('end', () => events.close());
}

function connect() {
  events?.close();
  framesEl.replaceChildren();
  frameCount = 0;
  frameCountEl.textContent = '0 frames';
  setStatus('connecting', 'connecting…');
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url);
  socket = ws;
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => setStatus('open', `connected to ${url.host}`);
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    const m = JSON.parse(e.data);
    switch (m.type) {
      case 'welcome':
        myName = m.name;
        whoEl.textContent = `you are ${m.name}`;
        followFrames(m.id);
        break;
      case 'chat': {
        // The room gets one message for everyone (a published topic message), so whether
        // it is this page's own line is told by its sender's name.
        const self = m.from === myName;
        addMessage(self ? 'self' : 'other', m.text, self ? `${m.from} (you, echoed)` : m.from);
        break;
      }
      case 'presence':
        addMessage('info', `${m.name} ${m.event} — ${m.online} online`);
        break;
      case 'pong':
        addMessage('info', `server pinged, your browser ponged: ${m.ms} ms round trip`);
        break;
    }
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    setStatus('closed', `closed: ${e.code}${e.reason ? ` ${e.reason}` : ''}${e.wasClean ? '' : ' (not clean)'}`);
    addMessage('info', `connection closed (${e.code})`);
  };
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = textEl.value.trim();
  if (text === '' || socket?.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  textEl.value = '';
  textEl.focus();
});
$('ping').addEventListener('click', () => socket?.send(PING_ME));
$('close').addEventListener('click', () => socket?.close(1000, 'bye'));
$('reconnect').addEventListener('click', connect);

connect();
