/*  ds_limits.h - every size limit of darkscope's messages, in one place.

    Two kinds of limit (proto/PROTOCOL.md, "Limits"):

    - a protocol limit is checked by the receiver's code: a request or an
      answer above it gets an error reply that names the limit;
    - a transport cap is ZMQ_MAXMSGSIZE on the receiving socket: libzmq
      reads a frame's declared size before allocating anything and drops
      the connection of a peer that declares more.  It protects memory;
      nothing can be answered (the peer is gone), so each cap sits above
      the protocol limit of what travels on that socket: a request a
      little too big still gets its error reply.

    Services and clients take their numbers from here only, so both ends of
    every link agree.  Header only: services/common includes it too.
*/
#ifndef DS_LIMITS_H
#define DS_LIMITS_H

#define DS_MIB                  (1024u * 1024u)

//  A batch or EOS frame (PUB/SUB data path).  Encoders refuse to produce
//  more; SUB sockets cap at this (a batch of 65,536 records is ~3 MiB).
#define DS_FRAME_DATA_MAX       (64u * DS_MIB)

//  A request to any REP socket (query front door, aggregator shard,
//  labeler control) and a subscription to an XPUB.  A request above it is
//  answered "request of N bytes exceeds the 1 MiB limit".
#define DS_FRAME_CONTROL_MAX    (1u * DS_MIB)

//  Transport cap of REP sockets: requests between DS_FRAME_CONTROL_MAX and
//  this get the error reply above; larger ones drop the connection.
#define DS_FRAME_CONTROL_WIRE_MAX (4u * DS_MIB)

//  A reply of the query service (and of the labeler, relayed by it).  An
//  answer that would be larger is an error reply naming this limit.
#define DS_REPLY_MAX            (16u * DS_MIB)

//  Transport cap of a client's REQ: any legal reply plus a margin.
#define DS_REPLY_WIRE_MAX       (DS_REPLY_MAX + DS_MIB)

//  A shard's partial answer to the query service.  Twice the reply limit:
//  a partial is at most the merged answer's share plus what merging needs.
//  A shard whose partial would be larger answers an error instead.
#define DS_PARTIAL_MAX          (32u * DS_MIB)

//  Transport cap of the query service's REQ sockets to the shards.
#define DS_PARTIAL_WIRE_MAX     (DS_PARTIAL_MAX + DS_MIB)

#endif
