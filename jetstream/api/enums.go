package api

import (
	"encoding/json"
	"fmt"
	"strings"
)

// RetentionPolicy says when a stream removes a message.
type RetentionPolicy int

const (
	// LimitsPolicy keeps messages until a limit removes them.
	LimitsPolicy RetentionPolicy = iota
	// InterestPolicy keeps a message while a consumer has yet to ack it.
	InterestPolicy
	// WorkQueuePolicy removes a message once one consumer acked it.
	WorkQueuePolicy
)

var retentionNames = []string{"limits", "interest", "workqueue"}

func (p RetentionPolicy) String() string { return enumName(retentionNames, int(p)) }

// MarshalJSON writes the policy's name.
func (p RetentionPolicy) MarshalJSON() ([]byte, error) { return marshalEnum(retentionNames, int(p)) }

// UnmarshalJSON reads "limits", "interest" or "workqueue".
func (p *RetentionPolicy) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(retentionNames, b, (*int)(p), false)
}

// DiscardPolicy says what a full stream does with a new message.
type DiscardPolicy int

const (
	DiscardOld DiscardPolicy = iota // remove the oldest messages
	DiscardNew                      // refuse the new message
)

var discardNames = []string{"old", "new"}

func (p DiscardPolicy) String() string { return enumName(discardNames, int(p)) }

// MarshalJSON writes "old" or "new".
func (p DiscardPolicy) MarshalJSON() ([]byte, error) { return marshalEnum(discardNames, int(p)) }

// UnmarshalJSON reads "old" or "new", in any case.
func (p *DiscardPolicy) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(discardNames, b, (*int)(p), true)
}

// StorageType is where a stream keeps its messages.
type StorageType int

const (
	FileStorage   StorageType = iota // on disk
	MemoryStorage                    // in memory only
)

var storageNames = []string{"file", "memory"}

func (t StorageType) String() string { return enumName(storageNames, int(t)) }

// MarshalJSON writes "file" or "memory".
func (t StorageType) MarshalJSON() ([]byte, error) { return marshalEnum(storageNames, int(t)) }

// UnmarshalJSON reads "file" or "memory".
func (t *StorageType) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(storageNames, b, (*int)(t), false)
}

// Compression is how a file stream compresses its messages on disk.
type Compression int

const (
	NoCompression Compression = iota // "none"
	S2Compression                    // "s2"
)

var compressionNames = []string{"none", "s2"}

func (c Compression) String() string { return enumName(compressionNames, int(c)) }

// MarshalJSON writes "none" or "s2".
func (c Compression) MarshalJSON() ([]byte, error) { return marshalEnum(compressionNames, int(c)) }

// UnmarshalJSON reads "none" or "s2".
func (c *Compression) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(compressionNames, b, (*int)(c), false)
}

// PersistMode says when a publish is acknowledged.
type PersistMode int

const (
	DefaultPersistMode PersistMode = iota // once durable
	AsyncPersistMode                      // once stored, before the disk has it
)

var persistNames = []string{"default", "async"}

func (m PersistMode) String() string { return enumName(persistNames, int(m)) }

// MarshalJSON writes "default" or "async".
func (m PersistMode) MarshalJSON() ([]byte, error) { return marshalEnum(persistNames, int(m)) }

// UnmarshalJSON reads "default" or "async", in any case.
func (m *PersistMode) UnmarshalJSON(b []byte) error {
	return unmarshalEnum(persistNames, b, (*int)(m), true)
}

func enumName(names []string, v int) string {
	if v < 0 || v >= len(names) {
		return fmt.Sprintf("unknown(%d)", v)
	}
	return names[v]
}

func marshalEnum(names []string, v int) ([]byte, error) {
	if v < 0 || v >= len(names) {
		return nil, fmt.Errorf("can not marshal %d", v)
	}
	return json.Marshal(names[v])
}

func unmarshalEnum(names []string, b []byte, dst *int, fold bool) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("can not unmarshal %s", b)
	}
	if fold {
		s = strings.ToLower(s)
	}
	for i, n := range names {
		if s == n {
			*dst = i
			return nil
		}
	}
	return fmt.Errorf("can not unmarshal %q", s)
}
