// The member's chats, newest activity first, with unread badges and the last
// message's preview, kept live by long-polling the inbox: the request waits
// on the server until one of the member's chats has news.

import { isAbort, sleep } from './api.js';
import { formatTime } from './chat.js';

const pageSize = 50;
const maxPages = 20;
const waitMs = 25000;
const minPollMs = 2000;

export class Inbox {
  /**
   * @param {object} deps
   * @param {import('./api.js').Api} deps.api
   * @param {string} deps.member
   * @param {HTMLUListElement} deps.list
   * @param {(chat: string) => void} deps.open
   * @param {(text: string, isError: boolean) => void} deps.status
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.entries = new Map(); // chat → inbox entry as the API gives it
    this.order = []; // chat ids, newest activity first
    this.selected = '';
    this.controller = new AbortController();
    this.wake = null; // aborts the current wait so refresh() reloads at once
  }

  start() {
    this.loop();
  }

  stop() {
    this.controller.abort();
    this.list.replaceChildren();
  }

  /** Reloads the first page now instead of when the current wait ends. */
  refresh() {
    this.wake?.abort();
  }

  /**
   * Loads every page of the inbox, then long-polls for news. The last page's
   * next_cursor means "newer than everything listed": the same call with it
   * answers only the chats whose activity is newer, waiting up to wait_ms
   * for some, and its own last next_cursor is the next such point.
   */
  async loop() {
    const signal = this.controller.signal;
    let newer = null; // the "newer than what I have" cursor, once the whole inbox is loaded
    while (!signal.aborted) {
      const wake = new AbortController();
      this.wake = wake;
      const both = AbortSignal.any([signal, wake.signal]);
      try {
        if (newer === null) {
          newer = await this.loadAll(both);
          continue;
        }
        const started = Date.now();
        const changed = [];
        let cursor = newer;
        for (let pages = 0; ; pages++) {
          const page = await this.api.call('GET', '/api/inbox', {
            query: { member: this.member, limit: pageSize, cursor, wait_ms: pages === 0 ? waitMs : undefined },
            signal: both, retry: true,
          });
          changed.push(...page.chats);
          cursor = page.next_cursor;
          if (!page.has_more) break;
        }
        newer = cursor;
        this.moveToTop(changed);
        // A gateway that could not wait answers at once: poll gently then.
        const early = minPollMs - (Date.now() - started);
        if (changed.length === 0 && early > 0) await sleep(early, both);
      } catch (err) {
        if (signal.aborted) return;
        if (isAbort(err)) {
          newer = null; // refresh(): load everything again
          continue;
        }
        this.status(`The chat list could not be loaded: ${err.message}`, true);
        newer = null;
        try {
          await sleep(3000, signal);
        } catch {
          return;
        }
      }
    }
  }

  /**
   * Loads the inbox from its first page to its last (at most maxPages) and
   * returns the last page's next_cursor, or null when there were more pages
   * (then the inbox is loaded again from the start after a while).
   */
  async loadAll(signal) {
    const entries = [];
    let cursor;
    for (let pages = 0; pages < maxPages; pages++) {
      const page = await this.api.call('GET', '/api/inbox', {
        query: { member: this.member, limit: pageSize, cursor }, signal, retry: true,
      });
      entries.push(...page.chats);
      cursor = page.next_cursor;
      if (!page.has_more) {
        this.replace(entries);
        return cursor;
      }
    }
    this.replace(entries);
    await sleep(5000, signal);
    return null;
  }

  /** Shows exactly these entries, in this order. */
  replace(entries) {
    this.entries = new Map(entries.map((entry) => [entry.chat, entry]));
    this.order = entries.map((entry) => entry.chat);
    this.render();
  }

  /** Puts chats with news on top, newest first, each once. */
  moveToTop(changed) {
    if (changed.length === 0) return;
    const seen = new Set(changed.map((entry) => entry.chat));
    for (const entry of changed) this.entries.set(entry.chat, entry);
    this.order = changed.map((entry) => entry.chat).concat(this.order.filter((chat) => !seen.has(chat)));
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
