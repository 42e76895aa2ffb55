package main

import "math/rand"

// mapgrow-int: every request indexes a batch of sessions by their int64 ID
// into a map made without a size hint (growth through the fast64 paths).

type Session struct {
	ID      int64
	UserID  int64
	Expires int64
	Scope   string
}

const sessionsPerBatch = 60000

var sessionBatch []*Session

func init() {
	register(&scenario{
		name:  "mapgrow-int",
		about: "per-request map[int64]*Session filled with 60000 entries without a size hint (map growth)",
		setup: makeSessionBatch,
		unit:  handleSessionBatch,
	})
}

func makeSessionBatch() {
	rng := rand.New(rand.NewSource(2))
	sessionBatch = make([]*Session, sessionsPerBatch)
	for i := range sessionBatch {
		sessionBatch[i] = &Session{
			ID:      rng.Int63(),
			UserID:  rng.Int63n(1 << 20),
			Expires: 1700000000 + rng.Int63n(86400),
			Scope:   "read",
		}
	}
}

func handleSessionBatch() {
	sessions := indexSessions(sessionBatch)
	var expires int64
	for i := 0; i < 16; i++ {
		if s, ok := sessions[sessionBatch[(i*7919)%len(sessionBatch)].ID]; ok {
			expires += s.Expires
		}
	}
	checksum.Add(expires)
}

func indexSessions(batch []*Session) map[int64]*Session {
	sessions := make(map[int64]*Session)
	for _, s := range batch {
		sessions[s.ID] = s
	}
	return sessions
}
