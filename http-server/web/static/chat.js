// One open chat: the newest page on open, older pages on scrolling up
// (reverse paging by next_cursor, so nothing is shown twice or skipped), new
// messages live by long-polling the tail with next_cursor and wait_ms, sends
// with a client_msg_id each, and the read marker moved as messages are seen.
//
// Messages are kept by send_time, which is unique within a chat and is the
// message's position in it, so a message that arrives twice (the tail poll
// and the send's own answer) is shown once.

import { isAbort, sleep } from './api.js';

const pageSize = 50;
const waitMs = 25000;
const nearEdgePx = 80;
const minPollMs = 1000;

export class ChatView {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {string} deps.member the signed-in member
   * @param {string} deps.chat chat id (canonical for groups; either order for two members)
   * @param {HTMLElement} deps.scroller the scrolling message pane
   * @param {HTMLOListElement} deps.list
   * @param {HTMLElement} deps.historyState
   * @param {(text: string, isError: boolean) => void} deps.status
   * @param {(chat: string, readUpTo: number, unread: number) => void} deps.onRead
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.byTime = new Map(); // send_time → <li>
    this.olderCursor = null; // reverse next_cursor while older pages remain
    this.tailCursor = 0; // forward cursor of the next tail poll
    this.readUpTo = 0;
    this.loadingOlder = false;
    this.controller = new AbortController();
    this.list.replaceChildren();
    this.historyState.textContent = 'Loading…';
    this.onScroll = () => this.scrolled();
    this.scroller.addEventListener('scroll', this.onScroll);
  }

  /** Loads the newest page and starts following the chat. */
  async open() {
    const page = await this.pull({ cursor: 0, reverse: true, limit: pageSize });
    if (page.messages.length > 0) {
      this.chat = page.messages[0].chat;
      this.tailCursor = page.messages[0].send_time + 1;
    }
    this.olderCursor = page.has_more ? page.next_cursor : null;
    this.add(page.messages);
    this.updateHistoryState();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.fill();
    this.follow();
    this.markRead();
  }

  /** Stops every request of this view. */
  close() {
    this.controller.abort();
    this.scroller.removeEventListener('scroll', this.onScroll);
  }

  pull(params) {
    return this.api.call('GET', '/api/pull', {
      query: { chat: this.chat, ...params }, signal: this.controller.signal, retry: true,
    });
  }

  /** The tail poll: waits on the server until something arrives, then shows it. */
  async follow() {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        const started = Date.now();
        const page = await this.pull({ cursor: this.tailCursor, limit: 100, wait_ms: waitMs });
        const atBottom = this.nearBottom();
        this.add(page.messages);
        this.tailCursor = page.next_cursor;
        if (atBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
        this.markRead();
        // A gateway that could not wait (too many waiters, or no long-poll)
        // answers an empty page at once: poll gently instead of spinning.
        const early = minPollMs - (Date.now() - started);
        if (page.messages.length === 0 && early > 0) await sleep(early, signal);
      } catch (err) {
        if (isAbort(err)) return;
        this.status(`Following this chat failed: ${err.message}`, true);
        try {
          await sleep(2000, signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Loads the page before the oldest one shown, keeping the view where it was. */
  async loadOlder() {
    if (this.olderCursor === null || this.loadingOlder) return;
    this.loadingOlder = true;
    this.historyState.textContent = 'Loading older messages…';
    try {
      const page = await this.pull({ cursor: this.olderCursor, reverse: true, limit: pageSize });
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      this.add(page.messages);
      this.olderCursor = page.has_more ? page.next_cursor : null;
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    } catch (err) {
      if (!isAbort(err)) this.status(`Older messages could not be loaded: ${err.message}`, true);
    } finally {
      this.loadingOlder = false;
      this.updateHistoryState();
    }
    this.fill();
  }

  /** Keeps loading older pages while the pane is not full enough to scroll. */
  fill() {
    if (this.olderCursor !== null && this.scroller.scrollHeight <= this.scroller.clientHeight + nearEdgePx) {
      this.loadOlder();
    }
  }

  updateHistoryState() {
    if (this.olderCursor !== null) this.historyState.textContent = 'Scroll up for older messages';
    else this.historyState.textContent = this.byTime.size === 0 ? 'No messages yet. Say hello!' : 'Beginning of the chat';
  }

  scrolled() {
    if (this.scroller.scrollTop < nearEdgePx) this.loadOlder();
    this.markRead();
  }

  nearBottom() {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < nearEdgePx;
  }

  /** Shows messages (any order, duplicates ignored) in send_time order. */
  add(messages) {
    for (const m of messages) {
      if (this.byTime.has(m.send_time)) continue;
      const item = renderMessage(m, m.sender === this.member);
      this.byTime.set(m.send_time, item);
      this.insertInOrder(item, m.send_time);
    }
    if (messages.length > 0 && this.byTime.size > 0) this.updateHistoryState();
  }

  insertInOrder(item, sendTime) {
    item.dataset.sendTime = String(sendTime);
    // Walk from the end: new messages belong there, older pages at the start.
    let next = null;
    for (let el = this.list.lastElementChild; el; el = el.previousElementSibling) {
      if (el.classList.contains('pending')) {
        next = el;
        continue;
      }
      if (Number(el.dataset.sendTime) < sendTime) break;
      next = el;
    }
    this.list.insertBefore(item, next);
  }

  /**
   * Sends text with a fresh client_msg_id, shown as pending until stored. The
   * call is retried (same id) through network failures, 429 and 503, so the
   * message is stored once whatever happens on the way.
   */
  async send(text) {
    const clientMsgID = crypto.randomUUID();
    const pending = renderMessage({ sender: this.member, text, send_time: 0 }, true);
    pending.classList.add('pending');
    pending.querySelector('.meta').textContent = 'sending…';
    this.list.append(pending);
    this.scroller.scrollTop = this.scroller.scrollHeight;
    try {
      const stored = await this.api.call('POST', '/api/send', {
        body: { chat: this.chat, text, sender: this.member, client_msg_id: clientMsgID },
        signal: this.controller.signal,
        retry: true,
      });
      pending.remove();
      this.chat = stored.chat;
      this.add([{ chat: stored.chat, sender: this.member, text, send_time: stored.send_time }]);
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.markRead();
    } catch (err) {
      if (isAbort(err)) return;
      pending.classList.add('failed');
      pending.querySelector('.meta').textContent = `not sent: ${err.message}`;
      throw err;
    }
  }

  /** Moves the read marker to the newest message once the person can see it. */
  async markRead() {
    if (document.visibilityState !== 'visible' || !this.nearBottom()) return;
    let newest = 0;
    for (const t of this.byTime.keys()) if (t > newest) newest = t;
    if (newest <= this.readUpTo) return;
    this.readUpTo = newest;
    try {
      const answer = await this.api.call('POST', '/api/read', {
        body: { chat: this.chat, member: this.member, send_time: newest },
        signal: this.controller.signal,
        retry: true,
      });
      this.onRead(this.chat, answer.read_up_to, answer.unread);
    } catch (err) {
      if (!isAbort(err)) this.status(`The read marker could not be saved: ${err.message}`, true);
    }
  }
}

/** A message as a list item; every text goes in through textContent, never as markup. */
function renderMessage(m, mine) {
  const item = document.createElement('li');
  item.className = mine ? 'msg mine' : 'msg';
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = m.send_time ? `${m.sender} · ${formatTime(m.send_time)}` : m.sender;
  const body = document.createElement('p');
  body.className = 'body';
  body.textContent = m.text;
  item.append(meta, body);
  return item;
}

/** Formats a send_time (µs since the epoch) as a local time of day, or a date for older ones. */
export function formatTime(micros) {
  const when = new Date(Math.floor(micros / 1000));
  const today = new Date();
  if (when.toDateString() === today.toDateString()) {
    return when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  return when.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' +
    when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
