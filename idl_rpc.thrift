// idl_rpc.thrift is the contract between the HTTP gateway and the RPC server.
//
// Wire compatibility: clients built from the original assignment IDL must keep
// working. Never rename, renumber or retype an existing field or argument;
// add new fields only as optional, at new ids.
//
// Callers: when the service runs with authentication, every Send and Pull
// carries the caller's bearer token (a JWT) in the RPC's TTHeader under
// CredentialKey (batches: per item, in Credentials); calls without one are
// answered with Code unauthenticated. Ping needs none.
//
// Conventions used by every response:
//   Code — 0 means ok; any other value is a business error code. The numbers
//          are stable and owned by the server (see rpc-server's error type).
//   Msg  — a message that is safe to show to a client; it never carries
//          internal details such as driver errors.
// Times (SendTime, Cursor, NextCursor) are microseconds since the Unix epoch.
// SendTime is assigned by the service; a value sent by a client is ignored.

namespace go rpc

// The contract's constants: both sides read them from the generated code,
// so neither imports the other.

// ServiceName is the message service's name in discovery: replicas register
// under it and gateways resolve it.
const string ServiceName = "pigeonhole.message"

// MaxBatch is the most items a SendBatchRequest or PullBatchRequest may
// carry; the service refuses a larger batch whole.
const i32 MaxBatch = 128

// MaxBatchBytes is the most text (in bytes) one batch carries: the service
// refuses a SendBatchRequest of several items whose texts come to more,
// and shares it among a PullBatchRequest's pages, each page's byte budget
// an equal share (but at least one message). A batch is one request and
// one answer, each held whole in memory on both sides.
const i32 MaxBatchBytes = 8388608

// RequestIDKey is the TTHeader metainfo key under which a caller's request
// id travels with an RPC, for the service's logs. Over plain Framed
// transport it is simply not sent.
const string RequestIDKey = "request_id"

// CredentialKey is the TTHeader metainfo key under which a caller's bearer
// token (a JWT) travels with a Send or Pull, for a service that runs with
// authentication to verify itself (batches carry theirs per item, in
// Credentials).
const string CredentialKey = "authorization"

// Message is one chat message.
struct Message {
    // Chat is the chat id, "a:b" for the two members a and b (or a group
    // id, see CreateGroup). The service accepts either order and stores
    // the canonical one.
    1: string Chat
    // Text is the message body.
    2: string Text
    // Sender is the member who sent the message; it must be one of the
    // chat's members.
    3: string Sender
    // SendTime is the time the service accepted the message, in µs since the
    // Unix epoch. It is assigned by the service on Send.
    4: i64 SendTime
    // ClientMsgId is an optional idempotency key chosen by the sender: a
    // repeated Send with the same (Chat, Sender, ClientMsgId) stores the
    // message once and answers with the SendTime of the first one; reusing
    // the key for a different Text is a conflict.
    5: optional string ClientMsgId
}

// SendRequest asks the service to store one message.
struct SendRequest {
    1: required Message message
}

// SendResponse reports the outcome of a Send.
struct SendResponse {
    // Code is 0 on success, otherwise a stable business error code.
    1: required i32 Code
    // Msg is a client-safe description of Code.
    2: required string Msg
    // SendTime is the send time assigned to the message, in µs since the
    // Unix epoch; set when Code is 0.
    3: optional i64 SendTime
    // Chat is the canonical chat id the message was stored under; set when
    // Code is 0.
    4: optional string Chat
}

// PullRequest asks for one page of a chat's messages ordered by SendTime.
struct PullRequest {
    // Chat is the chat id, in either member order.
    1: required string Chat
    // Cursor is the SendTime (µs) the page starts from, inclusive. 0 means
    // the oldest message, or the newest when Reverse is true.
    2: required i64 Cursor
    // Limit is the largest number of messages to return: 0 means the
    // service's default, above its maximum is clamped, negative is invalid.
    3: required i32 Limit
    // Reverse returns messages newest first when true.
    4: optional bool Reverse
    // WaitMs is how long a forward pull whose page would be empty may wait
    // for a message to arrive in the chat (a long poll): the answer comes
    // as soon as one does, else, when the time is up, as the empty page
    // with the same NextCursor. Capped by the service's --max-wait; absent
    // or 0 answers at once; negative is invalid. A page that is not empty
    // never waits. Send a waiting pull in a Pull of its own, not in a
    // PullBatch, whose answer would wait for it.
    5: optional i32 WaitMs
}

// PullResponse is one page of messages.
struct PullResponse {
    // Code is 0 on success, otherwise a stable business error code.
    1: required i32 Code
    // Msg is a client-safe description of Code.
    2: required string Msg
    // Messages is the page, in the requested order.
    3: optional list<Message> Messages
    // HasMore is true when more messages follow this page.
    4: optional bool HasMore
    // NextCursor is the Cursor for the next page in the same direction. With
    // HasMore it is the SendTime of the next page's first message; without,
    // forward pulls get one past the last SendTime (so polling with it yields
    // only new messages) and reverse pulls get 0.
    5: optional i64 NextCursor
    // Final is true when this page is the answer to this request for good:
    // the same request gets the same page later, from any replica, whatever
    // is sent meanwhile, so a cache may keep it (see rpc-server's
    // pigeonhole.Page). Absent means false.
    6: optional bool Final
}

// PingRequest asks whether the service is ready to serve.
struct PingRequest {
}

// PingResponse reports readiness.
struct PingResponse {
    // Code is 0 when the service and its store are ready, otherwise a stable
    // business error code.
    1: required i32 Code
    // Msg is a client-safe description of Code.
    2: required string Msg
}

// SendBatchRequest carries several independent sends in one call: the
// gateway coalesces concurrent client requests into one RPC. Each item is
// stored, or fails, on its own, exactly as if it had been sent alone.
struct SendBatchRequest {
    1: required list<SendRequest> Items
    // RequestIds are the callers' request ids, for the service's logs: the
    // i-th belongs to the i-th item. Optional, and may be shorter.
    2: optional list<string> RequestIds
    // Credentials are the callers' bearer tokens: the i-th proves who sends
    // the i-th item, since one batch carries many callers' requests. A
    // service with authentication refuses an item without one
    // (unauthenticated); the batch RPC's own credential is not used for
    // items. Optional, and may be shorter.
    3: optional list<string> Credentials
}

// SendBatchResponse answers a SendBatch item by item.
struct SendBatchResponse {
    // Code is 0 when the items were processed (each has its own Code),
    // otherwise the error of the whole batch (then Items is unset).
    1: required i32 Code
    2: required string Msg
    // Items are the items' outcomes, in the request's order.
    3: optional list<SendResponse> Items
}

// PullBatchRequest carries several independent pulls in one call.
struct PullBatchRequest {
    1: required list<PullRequest> Items
    // RequestIds and Credentials as in SendBatchRequest.
    2: optional list<string> RequestIds
    3: optional list<string> Credentials
}

// PullBatchResponse answers a PullBatch item by item.
struct PullBatchResponse {
    // Code and Msg as in SendBatchResponse.
    1: required i32 Code
    2: required string Msg
    // Items are the pages, in the request's order.
    3: optional list<PullResponse> Items
}

// A chat id is either "a:b" for the two members a and b, or a group id
// (no ':'), which the service generates in CreateGroup. Send and Pull work
// alike on both. Actor, Member: the member acting or concerned; with
// authentication on, the service takes it from the verified caller.

// Group is a chat whose members the service keeps.
struct Group {
    1: required string Chat
    2: required string Title
    // Owner may remove anyone; empty when there is none.
    3: required string Owner
    // Members in byte order.
    4: required list<string> Members
    // CreatedAt in µs since the Unix epoch.
    5: required i64 CreatedAt
}

// CreateGroupRequest asks for a new group.
struct CreateGroupRequest {
    1: required list<string> Members
    2: optional string Title
    // Actor, when set, joins the members and becomes the owner.
    3: optional string Actor
}

// GetGroupRequest asks for a chat's title and members.
struct GetGroupRequest {
    1: required string Chat
    // Actor, when set, must be a member.
    2: optional string Actor
}

// ChangeMembersRequest adds and removes a group's members: members may
// add, the owner may remove anyone, anyone may remove themselves.
struct ChangeMembersRequest {
    1: required string Chat
    2: required string Actor
    3: optional list<string> Add
    4: optional list<string> Remove
}

// GroupResponse answers CreateGroup, GetGroup and ChangeMembers.
struct GroupResponse {
    1: required i32 Code
    2: required string Msg
    // Group as it is after the call; set when Code is 0.
    3: optional Group Group
}

// InboxRequest asks for one page of a member's chats, newest activity
// first.
struct InboxRequest {
    1: required string Member
    // Cursor is empty for the first page, or a NextCursor.
    2: optional string Cursor
    // Limit as in PullRequest.
    3: optional i32 Limit
    // WaitMs is how long a call with a Cursor whose page would list no
    // chat may wait for activity in any of the member's chats (a long
    // poll), as PullRequest.WaitMs: the answer comes as soon as there is
    // some, else as the empty page with the same NextCursor. Send a
    // waiting inbox call on its own.
    4: optional i32 WaitMs
}

// InboxEntry is one chat of an inbox.
struct InboxEntry {
    1: required string Chat
    2: required string Title
    3: required list<string> Members
    // LastMessage is the newest message, its Text cut to a preview of at
    // most 200 bytes; absent when the chat has none.
    4: optional Message LastMessage
    // Activity (µs) orders the inbox.
    5: required i64 Activity
    // ReadUpTo is the member's read marker (a SendTime; 0: nothing read).
    6: required i64 ReadUpTo
    // Unread counts messages from others after ReadUpTo, exactly up to
    // 999; UnreadCapped says there are more.
    7: required i32 Unread
    8: required bool UnreadCapped
}

// InboxResponse is one page of an inbox.
struct InboxResponse {
    1: required i32 Code
    2: required string Msg
    3: optional list<InboxEntry> Chats
    4: optional bool HasMore
    // NextCursor is opaque. With HasMore it names the next page; on the
    // last page it means "newer than everything listed".
    5: optional string NextCursor
}

// MarkReadRequest moves a member's read marker forward.
struct MarkReadRequest {
    1: required string Chat
    2: required string Member
    // SendTime of the newest message read.
    3: required i64 SendTime
}

// MarkReadResponse is the marker after the call and what follows it.
struct MarkReadResponse {
    1: required i32 Code
    2: required string Msg
    3: optional i64 ReadUpTo
    4: optional i32 Unread
    5: optional bool UnreadCapped
}

// IMService stores and serves chat messages.
service IMService {
    // Send stores one message and returns its assigned send time.
    SendResponse Send(1: SendRequest req)
    // Pull returns one page of a chat's messages.
    PullResponse Pull(2: PullRequest req)
    // Ping reports readiness, for health checks.
    PingResponse Ping(1: PingRequest req)
    // SendBatch is many Sends in one call.
    SendBatchResponse SendBatch(1: SendBatchRequest req)
    // PullBatch is many Pulls in one call.
    PullBatchResponse PullBatch(1: PullBatchRequest req)
    // CreateGroup creates a group chat with a new id.
    GroupResponse CreateGroup(1: CreateGroupRequest req)
    // GetGroup returns a chat's title and members.
    GroupResponse GetGroup(1: GetGroupRequest req)
    // ChangeMembers adds and removes a group's members.
    GroupResponse ChangeMembers(1: ChangeMembersRequest req)
    // Inbox returns one page of a member's chats.
    InboxResponse Inbox(1: InboxRequest req)
    // MarkRead moves a member's read marker in a chat.
    MarkReadResponse MarkRead(1: MarkReadRequest req)
}
