// The member's chats, newest activity first, with unread badges and the last
// message's preview, kept live by long-polling the inbox: the request waits
// on the server until one of the member's chats has news.

import { isAbort, sleep } from './api.js';
import { formatTime } from './chat.js';

const pageSize = 50;
const waitMs = 25000;

export class Inbox {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {string} deps.member
   * @param {HTMLUListElement} deps.list
   * @param {HTMLButtonElement} deps.more
   * @param {(chat: string) => void} deps.open
   * @param {(text: string, isError: boolean) => void} deps.status
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.entries = new Map(); // chat → inbox entry as the API gives it
    this.order = []; // chat ids, newest activity first
    this.moreCursor = null;
    this.selected = '';
    this.controller = new AbortController();
    this.wake = null; // aborts the current wait so refresh() reloads at once
    this.onMore = () => this.loadMore();
    this.more.addEventListener('click', this.onMore);
  }

  start() {
    this.loop();
  }

  stop() {
    this.controller.abort();
    this.more.removeEventListener('click', this.onMore);
    this.list.replaceChildren();
    this.more.hidden = true;
  }

  /** Reloads the first page now instead of when the current wait ends. */
  refresh() {
    this.wake?.abort();
  }

  async loop() {
    const signal = this.controller.signal;
    let since = null;
    while (!signal.aborted) {
      const wake = new AbortController();
      this.wake = wake;
      const both = AbortSignal.any([signal, wake.signal]);
      try {
        const query = { member: this.member, limit: pageSize };
        if (since !== null) Object.assign(query, { wait_ms: waitMs, since });
        const page = await this.api.call('GET', '/api/inbox', { query, signal: both, retry: true });
        this.mergeFirstPage(page);
        since = page.since ?? null;
        if (since === null) await sleep(3000, both); // a gateway without inbox waits: poll
      } catch (err) {
        if (signal.aborted) return;
        if (isAbort(err)) continue; // refresh() asked for a reload
        this.status(`The chat list could not be loaded: ${err.message}`, true);
        since = null;
        try {
          await sleep(3000, signal);
        } catch {
          return;
        }
      }
    }
  }

  async loadMore() {
    if (this.moreCursor === null) return;
    try {
      const page = await this.api.call('GET', '/api/inbox', {
        query: { member: this.member, limit: pageSize, cursor: this.moreCursor },
        signal: this.controller.signal, retry: true,
      });
      for (const entry of page.chats) {
        if (!this.entries.has(entry.chat)) this.order.push(entry.chat);
        this.entries.set(entry.chat, entry);
      }
      this.moreCursor = page.has_more ? page.next_cursor : null;
      this.render();
    } catch (err) {
      if (!isAbort(err)) this.status(`More chats could not be loaded: ${err.message}`, true);
    }
  }

  /** The first page is the truth for the chats it holds; chats paged in later stay below them. */
  mergeFirstPage(page) {
    const first = page.chats.map((entry) => entry.chat);
    const seen = new Set(first);
    for (const entry of page.chats) this.entries.set(entry.chat, entry);
    this.order = first.concat(this.order.filter((chat) => !seen.has(chat)));
    if (this.order.length === first.length) this.moreCursor = page.has_more ? page.next_cursor : null;
    this.render();
  }

  /** Adds a chat the member just created, before the inbox reports it. */
  remember(group) {
    if (!this.entries.has(group.chat)) this.order.unshift(group.chat);
    this.entries.set(group.chat, { ...group, unread: 0, read_up_to: 0 });
    this.render();
  }

  /** Applies the answer of a read marker to the chat's badge. */
  read(chat, readUpTo, unread) {
    const entry = this.entries.get(chat);
    if (!entry) return;
    entry.read_up_to = readUpTo;
    entry.unread = unread;
    entry.unread_capped = false;
    this.render();
  }

  select(chat) {
    this.selected = chat;
    this.render();
  }

  /** A chat's name: its title, else the other members. */
  title(chat) {
    const entry = this.entries.get(chat);
    if (entry?.title) return entry.title;
    const members = entry?.members ?? (chat.includes(':') ? chat.split(':') : []);
    const others = members.filter((m) => m !== this.member);
    if (others.length) return others.join(', ');
    return members.length ? this.member : chat;
  }

  render() {
    const items = this.order.map((chat) => this.renderEntry(this.entries.get(chat)));
    this.list.replaceChildren(...items);
    this.more.hidden = this.moreCursor === null;
  }

  renderEntry(entry) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.chat = entry.chat;
    if (entry.chat === this.selected) button.setAttribute('aria-current', 'true');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = this.title(entry.chat);
    button.append(name);
    const unread = entry.chat === this.selected ? 0 : entry.unread ?? 0;
    let label = name.textContent;
    if (unread > 0) {
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = entry.unread_capped ? '999+' : String(unread);
      button.append(badge);
      label += `, ${badge.textContent} unread`;
    }
    const preview = document.createElement('span');
    preview.className = 'preview';
    const last = entry.last_message;
    preview.textContent = last ? `${last.sender}: ${last.text} · ${formatTime(last.send_time)}` : 'No messages yet';
    button.append(preview);
    button.setAttribute('aria-label', label);
    button.addEventListener('click', () => this.open(entry.chat));
    item.append(button);
    return item;
  }
}
