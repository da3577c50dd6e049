// original_idl_rpc.thrift is the RPC IDL of the original assignment
// (TikTokTechImmersion/assignment_demo_2023), with only its original
// fields. test/e2e builds a Kitex generic client from it at run time to
// check that gateways generated from it still work against rpc-server.
// Do not "update" it: its point is to stay the old contract.

namespace go rpc

struct Message {
    1: string Chat
    2: string Text
    3: string Sender
    4: i64 SendTime
}

struct SendRequest {
    1: required Message message
}

struct SendResponse {
    1: required i32 Code
    2: required string Msg
}

struct PullRequest {
    1: required string Chat
    2: required i64 Cursor
    3: required i32 Limit
    4: optional bool Reverse
}

struct PullResponse {
    1: required i32 Code
    2: required string Msg
    3: optional list<Message> Messages
    4: optional bool HasMore
    5: optional i64 NextCursor
}

service IMService {
    SendResponse Send(1: SendRequest req)
    PullResponse Pull(2: PullRequest req)
}
