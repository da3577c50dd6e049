// The page's wiring: sign-in, the inbox (kept live by long-polling), the open
// chat, group members, and the status line where every error is put in words.

import { Api, ApiError, isAbort } from './api.js';
import { ChatView } from './chat.js';
import { Inbox } from './inbox.js';

const $ = (id) => document.getElementById(id);
const session = window.sessionStorage; // tokens live here, never in URLs

const state = {
  member: '',
  token: '',
  inbox: null,
  chat: null, // the open ChatView
};

const api = new Api({
  token: () => state.token,
  status: showStatus,
  unauthenticated: (err) => signOut(`Please sign in again: ${err.message}`),
});

function showStatus(text, isError) {
  const line = $('status');
  line.textContent = text;
  line.classList.toggle('error', Boolean(isError));
  line.hidden = text === '';
}

function report(prefix, err) {
  if (isAbort(err)) return;
  if (err instanceof ApiError && err.status === 401) return; // sign-in already shows why
  const words = err instanceof ApiError && err.status === 403
    ? 'you are not allowed to do that'
    : err.message;
  showStatus(`${prefix}: ${words}`, true);
}

/** Decodes the payload of a JWT to learn its sub; the server verifies it, not this. */
function tokenSubject(token) {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  const sub = JSON.parse(json).sub;
  if (typeof sub !== 'string' || sub === '') throw new Error('the token has no subject');
  return sub;
}

function signIn(member, token) {
  state.member = member;
  state.token = token;
  session.setItem('pigeonhole.member', member);
  if (token) session.setItem('pigeonhole.token', token);
  else session.removeItem('pigeonhole.token');
  showStatus('', false);
  $('signin').hidden = true;
  $('app').hidden = false;
  $('whoami').hidden = false;
  $('whoami').textContent = `Signed in as ${member}`;
  $('signout').hidden = false;
  state.inbox = new Inbox({
    api, member, list: $('inbox'),
    open: (chat) => openChat(chat), status: showStatus,
  });
  state.inbox.start();
}

function signOut(message) {
  state.chat?.close();
  state.chat = null;
  state.inbox?.stop();
  state.inbox = null;
  state.member = '';
  state.token = '';
  session.removeItem('pigeonhole.member');
  session.removeItem('pigeonhole.token');
  $('app').hidden = true;
  $('chat-pane').hidden = true;
  $('whoami').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  showStatus(message ?? '', Boolean(message));
  $('member-id').focus();
}

/** The canonical two-member chat id: the ids sorted by their UTF-8 bytes. */
function directChat(a, b) {
  const enc = new TextEncoder();
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? `${a}:${b}` : `${b}:${a}`;
  }
  return x.length <= y.length ? `${a}:${b}` : `${b}:${a}`;
}

function splitMembers(text) {
  return text.split(/[\s,]+/).filter(Boolean);
}

async function openChat(chat) {
  state.chat?.close();
  $('chat-pane').hidden = false;
  $('app').classList.add('chat-open');
  $('members-box').hidden = true;
  $('members-toggle').setAttribute('aria-expanded', 'false');
  const isGroup = !chat.includes(':');
  $('members-toggle').hidden = !isGroup;
  $('chat-title').textContent = state.inbox.title(chat);
  state.inbox.select(chat);
  const view = new ChatView({
    api, member: state.member, chat,
    scroller: $('messages'), list: $('message-list'), historyState: $('history-state'),
    status: showStatus,
    onRead: (c, readUpTo, unread) => state.inbox?.read(c, readUpTo, unread),
  });
  state.chat = view;
  try {
    await view.open();
    $('text').focus();
  } catch (err) {
    report('The chat could not be opened', err);
  }
}

function closeChat() {
  state.chat?.close();
  state.chat = null;
  state.inbox?.select('');
  $('chat-pane').hidden = true;
  $('app').classList.remove('chat-open');
}

async function showMembers() {
  const chat = state.chat?.chat;
  if (!chat) return;
  try {
    const info = await api.call('GET', `/api/chats/${encodeURIComponent(chat)}`, { retry: true });
    const list = $('members');
    list.replaceChildren();
    for (const m of info.members ?? []) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = m;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.setAttribute('aria-label', `Remove ${m}`);
      remove.addEventListener('click', () => changeMembers({ remove: [m] }));
      item.append(name, remove);
      list.append(item);
    }
    $('chat-title').textContent = info.title || state.inbox.title(chat);
  } catch (err) {
    report('The members could not be loaded', err);
  }
}

async function changeMembers(change) {
  const chat = state.chat?.chat;
  if (!chat) return;
  try {
    await api.call('POST', `/api/chats/${encodeURIComponent(chat)}/members`, {
      body: { ...change, member: state.member }, retry: true,
    });
    if ((change.remove ?? []).includes(state.member)) {
      closeChat();
      state.inbox?.refresh();
      return;
    }
    await showMembers();
  } catch (err) {
    report('The members could not be changed', err);
  }
}

function wire() {
  $('signin-member').addEventListener('submit', (e) => {
    e.preventDefault();
    const member = $('member-id').value.trim();
    if (member) signIn(member, '');
  });
  $('signin-token').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    try {
      signIn(tokenSubject(token), token);
    } catch (err) {
      showStatus(`That token cannot be used: ${err.message}`, true);
    }
  });
  $('signin-dev').addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const answer = await api.call('POST', '/api/dev-login', { body: { sub: $('dev-member').value.trim() } });
      signIn(tokenSubject(answer.token), answer.token);
    } catch (err) {
      report('Development sign-in failed', err);
    }
  });
  $('signout').addEventListener('click', () => signOut());
  $('back').addEventListener('click', closeChat);

  $('new-direct').addEventListener('submit', (e) => {
    e.preventDefault();
    const peer = $('direct-peer').value.trim();
    if (!peer) return;
    $('direct-peer').value = '';
    openChat(directChat(state.member, peer));
  });
  $('new-group').addEventListener('submit', async (e) => {
    e.preventDefault();
    const members = [...new Set([state.member, ...splitMembers($('group-members').value)])];
    try {
      const group = await api.call('POST', '/api/chats', {
        body: { title: $('group-title').value.trim(), members, member: state.member },
      });
      $('group-title').value = '';
      $('group-members').value = '';
      $('new-group-box').open = false;
      state.inbox.remember(group);
      openChat(group.chat);
    } catch (err) {
      report('The group could not be created', err);
    }
  });
  $('members-toggle').addEventListener('click', () => {
    const box = $('members-box');
    box.hidden = !box.hidden;
    $('members-toggle').setAttribute('aria-expanded', String(!box.hidden));
    if (!box.hidden) showMembers();
  });
  $('members-change').addEventListener('submit', (e) => {
    e.preventDefault();
    const add = splitMembers($('members-add').value);
    $('members-add').value = '';
    if (add.length) changeMembers({ add });
  });
  $('leave').addEventListener('click', () => changeMembers({ remove: [state.member] }));

  const text = $('text');
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const body = text.value;
    if (!body.trim() || !state.chat) return;
    text.value = '';
    state.chat.send(body).catch((err) => report('The message was not sent', err));
  });
  document.addEventListener('visibilitychange', () => state.chat?.markRead());
}

/** Shows the development sign-in only where the gateway offers it (its route exists). */
async function probeDevLogin() {
  try {
    const answer = await fetch('/api/dev-login', { method: 'GET', cache: 'no-store' });
    $('signin-dev').hidden = answer.status !== 405;
  } catch {
    // Offline: the other ways to sign in remain.
  }
}

wire();
probeDevLogin();
const saved = session.getItem('pigeonhole.member');
if (saved) signIn(saved, session.getItem('pigeonhole.token') ?? '');
else signOut();
