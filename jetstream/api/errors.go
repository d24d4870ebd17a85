package api

// The error table of the JetStream API: every error the upstream server
// defines (its errors.json, ADR-7), one variable each. Names drop
// upstream's "JS" prefix and its "Err"/"ErrF"/"F" suffix and take Go's
// "Err" prefix (JSStreamNotFoundErr is ErrStreamNotFound). Code,
// ErrCode and Description are upstream's, byte for byte; a description
// with "{name}" placeholders is filled with With (or WithErr for
// "{err}") before it is sent, and the variables themselves are never
// modified.

// Request errors: a request that is malformed, not allowed in its
// context, or asks for a sequence or message that is not there.
var (
	// ErrBadRequest is upstream's JSBadRequestErr.
	ErrBadRequest = &Error{Code: 400, ErrCode: 10003, Description: "bad request"}

	// ErrInvalidJSON is upstream's JSInvalidJSONErr; fill {err} with With.
	ErrInvalidJSON = &Error{Code: 400, ErrCode: 10025, Description: "invalid JSON: {err}"}

	// ErrNoMessageFound is upstream's JSNoMessageFoundErr.
	ErrNoMessageFound = &Error{Code: 404, ErrCode: 10037, Description: "no message found"}

	// ErrNotEmptyRequest is upstream's JSNotEmptyRequestErr.
	ErrNotEmptyRequest = &Error{Code: 400, ErrCode: 10038, Description: "expected an empty request payload"}

	// ErrSequenceNotFound is upstream's JSSequenceNotFoundErrF; fill {seq} with With.
	ErrSequenceNotFound = &Error{Code: 400, ErrCode: 10043, Description: "sequence {seq} not found"}

	// ErrReplicasCountCannotBeNegative is upstream's JSReplicasCountCannotBeNegative.
	ErrReplicasCountCannotBeNegative = &Error{Code: 400, ErrCode: 10133, Description: "replicas count cannot be negative"}

	// ErrPedantic is upstream's JSPedanticErrF; fill {err} with With.
	ErrPedantic = &Error{Code: 400, ErrCode: 10157, Description: "pedantic mode: {err}"}

	// ErrRequiredApiLevel is upstream's JSRequiredApiLevelErr.
	ErrRequiredApiLevel = &Error{Code: 412, ErrCode: 10185, Description: "JetStream minimum api level required"}
)

// Enablement and limits: JetStream off for the server or the account,
// and the account's or the server's resources or limits exhausted.
var (
	// ErrAccountResourcesExceeded is upstream's JSAccountResourcesExceededErr.
	ErrAccountResourcesExceeded = &Error{Code: 400, ErrCode: 10002, Description: "resource limits exceeded for account"}

	// ErrInsufficientResources is upstream's JSInsufficientResourcesErr.
	ErrInsufficientResources = &Error{Code: 503, ErrCode: 10023, Description: "insufficient resources"}

	// ErrMaximumConsumersLimit is upstream's JSMaximumConsumersLimitErr.
	ErrMaximumConsumersLimit = &Error{Code: 400, ErrCode: 10026, Description: "maximum consumers limit reached"}

	// ErrMaximumStreamsLimit is upstream's JSMaximumStreamsLimitErr.
	ErrMaximumStreamsLimit = &Error{Code: 400, ErrCode: 10027, Description: "maximum number of streams reached"}

	// ErrMemoryResourcesExceeded is upstream's JSMemoryResourcesExceededErr.
	ErrMemoryResourcesExceeded = &Error{Code: 500, ErrCode: 10028, Description: "insufficient memory resources available"}

	// ErrNoAccount is upstream's JSNoAccountErr.
	ErrNoAccount = &Error{Code: 503, ErrCode: 10035, Description: "account not found"}

	// ErrNotEnabledForAccount is upstream's JSNotEnabledForAccountErr.
	ErrNotEnabledForAccount = &Error{Code: 503, ErrCode: 10039, Description: "JetStream not enabled for account"}

	// ErrStorageResourcesExceeded is upstream's JSStorageResourcesExceededErr.
	ErrStorageResourcesExceeded = &Error{Code: 500, ErrCode: 10047, Description: "insufficient storage resources available"}

	// ErrNotEnabled is upstream's JSNotEnabledErr.
	ErrNotEnabled = &Error{Code: 503, ErrCode: 10076, Description: "JetStream not enabled"}

	// ErrNoLimits is upstream's JSNoLimitsErr.
	ErrNoLimits = &Error{Code: 400, ErrCode: 10120, Description: "no JetStream default or applicable tiered limit present"}
)

// Cluster errors: answers of a clustered JetStream (meta leader, peers,
// placement, Raft) and requests that need a cluster.
var (
	// ErrClusterIncomplete is upstream's JSClusterIncompleteErr.
	ErrClusterIncomplete = &Error{Code: 503, ErrCode: 10004, Description: "incomplete results"}

	// ErrClusterNoPeers is upstream's JSClusterNoPeersErrF; fill {err} with With.
	ErrClusterNoPeers = &Error{Code: 400, ErrCode: 10005, Description: "{err}"}

	// ErrClusterNotActive is upstream's JSClusterNotActiveErr.
	ErrClusterNotActive = &Error{Code: 500, ErrCode: 10006, Description: "JetStream not in clustered mode"}

	// ErrClusterNotAssigned is upstream's JSClusterNotAssignedErr.
	ErrClusterNotAssigned = &Error{Code: 500, ErrCode: 10007, Description: "JetStream cluster not assigned to this server"}

	// ErrClusterNotAvail is upstream's JSClusterNotAvailErr.
	ErrClusterNotAvail = &Error{Code: 503, ErrCode: 10008, Description: "JetStream system temporarily unavailable"}

	// ErrClusterNotLeader is upstream's JSClusterNotLeaderErr.
	ErrClusterNotLeader = &Error{Code: 500, ErrCode: 10009, Description: "JetStream cluster can not handle request"}

	// ErrClusterRequired is upstream's JSClusterRequiredErr.
	ErrClusterRequired = &Error{Code: 503, ErrCode: 10010, Description: "JetStream clustering support required"}

	// ErrClusterTags is upstream's JSClusterTagsErr.
	ErrClusterTags = &Error{Code: 400, ErrCode: 10011, Description: "tags placement not supported for operation"}

	// ErrClusterUnSupportFeature is upstream's JSClusterUnSupportFeatureErr.
	ErrClusterUnSupportFeature = &Error{Code: 503, ErrCode: 10036, Description: "not currently supported in clustered mode"}

	// ErrClusterPeerNotMember is upstream's JSClusterPeerNotMemberErr.
	ErrClusterPeerNotMember = &Error{Code: 400, ErrCode: 10040, Description: "peer not a member"}

	// ErrRaftGeneral is upstream's JSRaftGeneralErrF; fill {err} with With.
	ErrRaftGeneral = &Error{Code: 500, ErrCode: 10041, Description: "{err}"}

	// ErrClusterServerNotMember is upstream's JSClusterServerNotMemberErr.
	ErrClusterServerNotMember = &Error{Code: 400, ErrCode: 10044, Description: "server is not a member of the cluster"}

	// ErrPeerRemap is upstream's JSPeerRemapErr.
	ErrPeerRemap = &Error{Code: 503, ErrCode: 10075, Description: "peer remap failed"}

	// ErrClusterServerMemberChangeInflight is upstream's JSClusterServerMemberChangeInflightErr.
	ErrClusterServerMemberChangeInflight = &Error{Code: 400, ErrCode: 10202, Description: "cluster member change is in progress"}

	// ErrClusterRescue is upstream's JSClusterRescueErr; fill {err} with With.
	ErrClusterRescue = &Error{Code: 400, ErrCode: 10224, Description: "JetStream system rescue not applied: {err}"}
)

// Stream template errors: the stream templates API of upstream.
var (
	// ErrStreamTemplateCreate is upstream's JSStreamTemplateCreateErrF; fill {err} with With.
	ErrStreamTemplateCreate = &Error{Code: 500, ErrCode: 10066, Description: "{err}"}

	// ErrStreamTemplateDelete is upstream's JSStreamTemplateDeleteErrF; fill {err} with With.
	ErrStreamTemplateDelete = &Error{Code: 500, ErrCode: 10067, Description: "{err}"}

	// ErrStreamTemplateNotFound is upstream's JSStreamTemplateNotFoundErr.
	ErrStreamTemplateNotFound = &Error{Code: 404, ErrCode: 10068, Description: "template not found"}

	// ErrTemplateNameNotMatchSubject is upstream's JSTemplateNameNotMatchSubjectErr.
	ErrTemplateNameNotMatchSubject = &Error{Code: 400, ErrCode: 10073, Description: "template name in subject does not match request"}
)

// Stream errors: creating, updating, reading, purging and deleting a
// stream, and publishing into it (expectation headers, sizes, seals).
// The {err} forms carry a cause the server words itself.
var (
	// ErrStreamExternalApiOverlap is upstream's JSStreamExternalApiOverlapErrF; fill {prefix} and {subject} with With.
	ErrStreamExternalApiOverlap = &Error{Code: 400, ErrCode: 10021, Description: "stream external api prefix {prefix} must not overlap with {subject}"}

	// ErrStreamExternalDelPrefixOverlaps is upstream's JSStreamExternalDelPrefixOverlapsErrF; fill {prefix} and {subject} with With.
	ErrStreamExternalDelPrefixOverlaps = &Error{Code: 400, ErrCode: 10022, Description: "stream external delivery prefix {prefix} overlaps with stream subject {subject}"}

	// ErrStreamInvalidExternalDeliverySubj is upstream's JSStreamInvalidExternalDeliverySubjErrF; fill {prefix} with With.
	ErrStreamInvalidExternalDeliverySubj = &Error{Code: 400, ErrCode: 10024, Description: "stream external delivery prefix {prefix} must not contain wildcards"}

	// ErrStreamAssignment is upstream's JSStreamAssignmentErrF; fill {err} with With.
	ErrStreamAssignment = &Error{Code: 500, ErrCode: 10048, Description: "{err}"}

	// ErrStreamCreate is upstream's JSStreamCreateErrF; fill {err} with With.
	ErrStreamCreate = &Error{Code: 500, ErrCode: 10049, Description: "{err}"}

	// ErrStreamDelete is upstream's JSStreamDeleteErrF; fill {err} with With.
	ErrStreamDelete = &Error{Code: 500, ErrCode: 10050, Description: "{err}"}

	// ErrStreamGeneral is upstream's JSStreamGeneralErrorF; fill {err} with With.
	ErrStreamGeneral = &Error{Code: 500, ErrCode: 10051, Description: "{err}"}

	// ErrStreamInvalidConfig is upstream's JSStreamInvalidConfigF; fill {err} with With.
	ErrStreamInvalidConfig = &Error{Code: 500, ErrCode: 10052, Description: "{err}"}

	// ErrStreamLimits is upstream's JSStreamLimitsErrF; fill {err} with With.
	ErrStreamLimits = &Error{Code: 500, ErrCode: 10053, Description: "{err}"}

	// ErrStreamMessageExceedsMaximum is upstream's JSStreamMessageExceedsMaximumErr.
	ErrStreamMessageExceedsMaximum = &Error{Code: 400, ErrCode: 10054, Description: "message size exceeds maximum allowed"}

	// ErrStreamMirrorNotUpdatable is upstream's JSStreamMirrorNotUpdatableErr.
	ErrStreamMirrorNotUpdatable = &Error{Code: 400, ErrCode: 10055, Description: "stream mirror configuration can not be updated"}

	// ErrStreamMismatch is upstream's JSStreamMismatchErr.
	ErrStreamMismatch = &Error{Code: 400, ErrCode: 10056, Description: "stream name in subject does not match request"}

	// ErrStreamMsgDeleteFailed is upstream's JSStreamMsgDeleteFailedF; fill {err} with With.
	ErrStreamMsgDeleteFailed = &Error{Code: 500, ErrCode: 10057, Description: "{err}"}

	// ErrStreamNameExist is upstream's JSStreamNameExistErr.
	ErrStreamNameExist = &Error{Code: 400, ErrCode: 10058, Description: "stream name already in use with a different configuration"}

	// ErrStreamNotFound is upstream's JSStreamNotFoundErr.
	ErrStreamNotFound = &Error{Code: 404, ErrCode: 10059, Description: "stream not found"}

	// ErrStreamNotMatch is upstream's JSStreamNotMatchErr.
	ErrStreamNotMatch = &Error{Code: 400, ErrCode: 10060, Description: "expected stream does not match"}

	// ErrStreamReplicasNotUpdatable is upstream's JSStreamReplicasNotUpdatableErr.
	ErrStreamReplicasNotUpdatable = &Error{Code: 400, ErrCode: 10061, Description: "Replicas configuration can not be updated"}

	// ErrStreamRestore is upstream's JSStreamRestoreErrF; fill {err} with With.
	ErrStreamRestore = &Error{Code: 500, ErrCode: 10062, Description: "restore failed: {err}"}

	// ErrStreamSequenceNotMatch is upstream's JSStreamSequenceNotMatchErr.
	ErrStreamSequenceNotMatch = &Error{Code: 503, ErrCode: 10063, Description: "expected stream sequence does not match"}

	// ErrStreamSnapshot is upstream's JSStreamSnapshotErrF; fill {err} with With.
	ErrStreamSnapshot = &Error{Code: 500, ErrCode: 10064, Description: "snapshot failed: {err}"}

	// ErrStreamSubjectOverlap is upstream's JSStreamSubjectOverlapErr.
	ErrStreamSubjectOverlap = &Error{Code: 400, ErrCode: 10065, Description: "subjects overlap with an existing stream"}

	// ErrStreamUpdate is upstream's JSStreamUpdateErrF; fill {err} with With.
	ErrStreamUpdate = &Error{Code: 500, ErrCode: 10069, Description: "{err}"}

	// ErrStreamWrongLastMsgID is upstream's JSStreamWrongLastMsgIDErrF; fill {id} with With.
	ErrStreamWrongLastMsgID = &Error{Code: 400, ErrCode: 10070, Description: "wrong last msg ID: {id}"}

	// ErrStreamWrongLastSequence is upstream's JSStreamWrongLastSequenceErrF; fill {seq} with With.
	ErrStreamWrongLastSequence = &Error{Code: 400, ErrCode: 10071, Description: "wrong last sequence: {seq}"}

	// ErrStreamReplicasNotSupported is upstream's JSStreamReplicasNotSupportedErr.
	ErrStreamReplicasNotSupported = &Error{Code: 500, ErrCode: 10074, Description: "replicas > 1 not supported in non-clustered mode"}

	// ErrStreamStoreFailed is upstream's JSStreamStoreFailedF; fill {err} with With.
	ErrStreamStoreFailed = &Error{Code: 503, ErrCode: 10077, Description: "{err}"}

	// ErrStreamInvalid is upstream's JSStreamInvalidErr.
	ErrStreamInvalid = &Error{Code: 500, ErrCode: 10096, Description: "stream not valid"}

	// ErrStreamHeaderExceedsMaximum is upstream's JSStreamHeaderExceedsMaximumErr.
	ErrStreamHeaderExceedsMaximum = &Error{Code: 400, ErrCode: 10097, Description: "header size exceeds maximum allowed of 64k"}

	// ErrStreamSealed is upstream's JSStreamSealedErr.
	ErrStreamSealed = &Error{Code: 400, ErrCode: 10109, Description: "invalid operation on sealed stream"}

	// ErrStreamPurgeFailed is upstream's JSStreamPurgeFailedF; fill {err} with With.
	ErrStreamPurgeFailed = &Error{Code: 500, ErrCode: 10110, Description: "{err}"}

	// ErrStreamRollupFailed is upstream's JSStreamRollupFailedF; fill {err} with With.
	ErrStreamRollupFailed = &Error{Code: 500, ErrCode: 10111, Description: "{err}"}

	// ErrStreamMaxBytesRequired is upstream's JSStreamMaxBytesRequired.
	ErrStreamMaxBytesRequired = &Error{Code: 400, ErrCode: 10113, Description: "account requires a stream config to have max bytes set"}

	// ErrStreamInfoMaxSubjects is upstream's JSStreamInfoMaxSubjectsErr.
	ErrStreamInfoMaxSubjects = &Error{Code: 500, ErrCode: 10117, Description: "subject details would exceed maximum allowed"}

	// ErrStreamOffline is upstream's JSStreamOfflineErr.
	ErrStreamOffline = &Error{Code: 500, ErrCode: 10118, Description: "stream is offline"}

	// ErrStreamMaxStreamBytesExceeded is upstream's JSStreamMaxStreamBytesExceeded.
	ErrStreamMaxStreamBytesExceeded = &Error{Code: 400, ErrCode: 10122, Description: "stream max bytes exceeds account limit max stream bytes"}

	// ErrStreamMoveAndScale is upstream's JSStreamMoveAndScaleErr.
	ErrStreamMoveAndScale = &Error{Code: 400, ErrCode: 10123, Description: "can not move and scale a stream in a single update"}

	// ErrStreamMoveInProgress is upstream's JSStreamMoveInProgressErr.
	// Earlier versions of the table call it JSStreamMoveInProgressF, "stream move already in progress: {msg}".
	ErrStreamMoveInProgress = &Error{Code: 400, ErrCode: 10124, Description: "stream move already in progress"}

	// ErrStreamNameContainsPathSeparators is upstream's JSStreamNameContainsPathSeparatorsErr.
	ErrStreamNameContainsPathSeparators = &Error{Code: 400, ErrCode: 10128, Description: "Stream name can not contain path separators"}

	// ErrStreamReconfigureNotInProgress is upstream's JSStreamReconfigureNotInProgressErr.
	// Earlier versions of the table call it JSStreamMoveNotInProgress, "stream move not in progress".
	ErrStreamReconfigureNotInProgress = &Error{Code: 400, ErrCode: 10129, Description: "stream reconfiguration not in progress"}

	// ErrStreamNameExistRestoreFailed is upstream's JSStreamNameExistRestoreFailedErr.
	ErrStreamNameExistRestoreFailed = &Error{Code: 400, ErrCode: 10130, Description: "stream name already in use, cannot restore"}

	// ErrStreamTransformInvalidSource is upstream's JSStreamTransformInvalidSource; fill {err} with With.
	ErrStreamTransformInvalidSource = &Error{Code: 400, ErrCode: 10155, Description: "stream transform source: {err}"}

	// ErrStreamTransformInvalidDestination is upstream's JSStreamTransformInvalidDestination; fill {err} with With.
	ErrStreamTransformInvalidDestination = &Error{Code: 400, ErrCode: 10156, Description: "stream transform: {err}"}

	// ErrStreamDuplicateMessageConflict is upstream's JSStreamDuplicateMessageConflict.
	ErrStreamDuplicateMessageConflict = &Error{Code: 409, ErrCode: 10158, Description: "duplicate message id is in process"}

	// ErrStreamExpectedLastSeqPerSubjectNotReady is upstream's JSStreamExpectedLastSeqPerSubjectNotReady.
	ErrStreamExpectedLastSeqPerSubjectNotReady = &Error{Code: 503, ErrCode: 10163, Description: "expected last sequence per subject temporarily unavailable"}

	// ErrStreamWrongLastSequenceConstant is upstream's JSStreamWrongLastSequenceConstantErr.
	ErrStreamWrongLastSequenceConstant = &Error{Code: 400, ErrCode: 10164, Description: "wrong last sequence"}

	// ErrStreamTooManyRequests is upstream's JSStreamTooManyRequests.
	ErrStreamTooManyRequests = &Error{Code: 429, ErrCode: 10167, Description: "too many requests"}

	// ErrStreamMinLastSeq is upstream's JSStreamMinLastSeqErr.
	ErrStreamMinLastSeq = &Error{Code: 412, ErrCode: 10180, Description: "min last sequence"}

	// ErrStreamExpectedLastSeqPerSubjectInvalid is upstream's JSStreamExpectedLastSeqPerSubjectInvalid.
	ErrStreamExpectedLastSeqPerSubjectInvalid = &Error{Code: 400, ErrCode: 10193, Description: "missing sequence for expected last sequence per subject"}

	// ErrStreamOfflineReason is upstream's JSStreamOfflineReasonErrF; fill {err} with With.
	ErrStreamOfflineReason = &Error{Code: 500, ErrCode: 10194, Description: "stream is offline: {err}"}

	// ErrStreamReconfigureInProgress is upstream's JSStreamReconfigureInProgressErr.
	ErrStreamReconfigureInProgress = &Error{Code: 400, ErrCode: 10226, Description: "stream reconfiguration already in progress"}
)

// Snapshot and restore errors that do not name a stream (the stream's own
// are ErrStreamSnapshot and ErrStreamRestore).
var (
	// ErrSnapshotDeliverSubjectInvalid is upstream's JSSnapshotDeliverSubjectInvalidErr.
	ErrSnapshotDeliverSubjectInvalid = &Error{Code: 400, ErrCode: 10015, Description: "deliver subject not valid"}

	// ErrRestoreSubscribeFailed is upstream's JSRestoreSubscribeFailedErrF; fill {subject} and {err} with With.
	ErrRestoreSubscribeFailed = &Error{Code: 500, ErrCode: 10042, Description: "JetStream unable to subscribe to restore snapshot {subject}: {err}"}

	// ErrTempStorageFailed is upstream's JSTempStorageFailedErr.
	ErrTempStorageFailed = &Error{Code: 500, ErrCode: 10072, Description: "JetStream unable to open temp storage for restore"}
)

// Mirror errors: the mirror configuration of a stream (a mirror has no
// subjects, no sources and none of the publish-side features).
var (
	// ErrMirrorConsumerSetupFailed is upstream's JSMirrorConsumerSetupFailedErrF; fill {err} with With.
	ErrMirrorConsumerSetupFailed = &Error{Code: 500, ErrCode: 10029, Description: "{err}"}

	// ErrMirrorMaxMessageSizeTooBig is upstream's JSMirrorMaxMessageSizeTooBigErr.
	ErrMirrorMaxMessageSizeTooBig = &Error{Code: 400, ErrCode: 10030, Description: "stream mirror must have max message size >= source"}

	// ErrMirrorWithSources is upstream's JSMirrorWithSourcesErr.
	ErrMirrorWithSources = &Error{Code: 400, ErrCode: 10031, Description: "stream mirrors can not also contain other sources"}

	// ErrMirrorWithStartSeqAndTime is upstream's JSMirrorWithStartSeqAndTimeErr.
	ErrMirrorWithStartSeqAndTime = &Error{Code: 400, ErrCode: 10032, Description: "stream mirrors can not have both start seq and start time configured"}

	// ErrMirrorWithSubjectFilters is upstream's JSMirrorWithSubjectFiltersErr.
	ErrMirrorWithSubjectFilters = &Error{Code: 400, ErrCode: 10033, Description: "stream mirrors can not contain filtered subjects"}

	// ErrMirrorWithSubjects is upstream's JSMirrorWithSubjectsErr.
	ErrMirrorWithSubjects = &Error{Code: 400, ErrCode: 10034, Description: "stream mirrors can not contain subjects"}

	// ErrMirrorInvalidStreamName is upstream's JSMirrorInvalidStreamName.
	ErrMirrorInvalidStreamName = &Error{Code: 400, ErrCode: 10142, Description: "mirrored stream name is invalid"}

	// ErrMirrorWithFirstSeq is upstream's JSMirrorWithFirstSeqErr.
	ErrMirrorWithFirstSeq = &Error{Code: 400, ErrCode: 10143, Description: "stream mirrors can not have first sequence configured"}

	// ErrMirrorMultipleFiltersNotAllowed is upstream's JSMirrorMultipleFiltersNotAllowed.
	ErrMirrorMultipleFiltersNotAllowed = &Error{Code: 400, ErrCode: 10150, Description: "mirror with multiple subject transforms cannot also have a single subject filter"}

	// ErrMirrorInvalidSubjectFilter is upstream's JSMirrorInvalidSubjectFilter; fill {err} with With.
	ErrMirrorInvalidSubjectFilter = &Error{Code: 400, ErrCode: 10151, Description: "mirror transform source: {err}"}

	// ErrMirrorOverlappingSubjectFilters is upstream's JSMirrorOverlappingSubjectFilters.
	ErrMirrorOverlappingSubjectFilters = &Error{Code: 400, ErrCode: 10152, Description: "mirror subject filters can not overlap"}

	// ErrMirrorInvalidTransformDestination is upstream's JSMirrorInvalidTransformDestination; fill {err} with With.
	ErrMirrorInvalidTransformDestination = &Error{Code: 400, ErrCode: 10154, Description: "mirror transform: {err}"}

	// ErrMirrorWithCounters is upstream's JSMirrorWithCountersErr.
	ErrMirrorWithCounters = &Error{Code: 400, ErrCode: 10173, Description: "stream mirrors can not also calculate counters"}

	// ErrMirrorWithMsgSchedules is upstream's JSMirrorWithMsgSchedulesErr.
	ErrMirrorWithMsgSchedules = &Error{Code: 400, ErrCode: 10186, Description: "stream mirrors can not also schedule messages"}

	// ErrMirrorWithAtomicPublish is upstream's JSMirrorWithAtomicPublishErr.
	ErrMirrorWithAtomicPublish = &Error{Code: 400, ErrCode: 10198, Description: "stream mirrors can not also use atomic publishing"}

	// ErrMirrorWithBatchPublish is upstream's JSMirrorWithBatchPublishErr.
	ErrMirrorWithBatchPublish = &Error{Code: 400, ErrCode: 10209, Description: "stream mirrors can not also use batch publishing"}

	// ErrMirrorDurableConsumerCfgInvalid is upstream's JSMirrorDurableConsumerCfgInvalid.
	ErrMirrorDurableConsumerCfgInvalid = &Error{Code: 400, ErrCode: 10213, Description: "stream mirror consumer config is invalid"}

	// ErrMirrorConsumerRequiresAckFC is upstream's JSMirrorConsumerRequiresAckFCErr.
	ErrMirrorConsumerRequiresAckFC = &Error{Code: 400, ErrCode: 10214, Description: "stream mirror consumer requires flow control ack policy"}
)

// Source errors: the sources configuration of a stream.
var (
	// ErrSourceConsumerSetupFailed is upstream's JSSourceConsumerSetupFailedErrF; fill {err} with With.
	ErrSourceConsumerSetupFailed = &Error{Code: 500, ErrCode: 10045, Description: "{err}"}

	// ErrSourceMaxMessageSizeTooBig is upstream's JSSourceMaxMessageSizeTooBigErr.
	ErrSourceMaxMessageSizeTooBig = &Error{Code: 400, ErrCode: 10046, Description: "stream source must have max message size >= target"}

	// ErrSourceDuplicateDetected is upstream's JSSourceDuplicateDetected.
	ErrSourceDuplicateDetected = &Error{Code: 400, ErrCode: 10140, Description: "duplicate source configuration detected"}

	// ErrSourceInvalidStreamName is upstream's JSSourceInvalidStreamName.
	ErrSourceInvalidStreamName = &Error{Code: 400, ErrCode: 10141, Description: "sourced stream name is invalid"}

	// ErrSourceMultipleFiltersNotAllowed is upstream's JSSourceMultipleFiltersNotAllowed.
	ErrSourceMultipleFiltersNotAllowed = &Error{Code: 400, ErrCode: 10144, Description: "source with multiple subject transforms cannot also have a single subject filter"}

	// ErrSourceInvalidSubjectFilter is upstream's JSSourceInvalidSubjectFilter; fill {err} with With.
	ErrSourceInvalidSubjectFilter = &Error{Code: 400, ErrCode: 10145, Description: "source transform source: {err}"}

	// ErrSourceInvalidTransformDestination is upstream's JSSourceInvalidTransformDestination; fill {err} with With.
	ErrSourceInvalidTransformDestination = &Error{Code: 400, ErrCode: 10146, Description: "source transform: {err}"}

	// ErrSourceOverlappingSubjectFilters is upstream's JSSourceOverlappingSubjectFilters.
	ErrSourceOverlappingSubjectFilters = &Error{Code: 400, ErrCode: 10147, Description: "source filters can not overlap"}

	// ErrSourceWithMsgSchedules is upstream's JSSourceWithMsgSchedulesErr.
	ErrSourceWithMsgSchedules = &Error{Code: 400, ErrCode: 10187, Description: "stream source can not also schedule messages"}

	// ErrSourceDurableConsumerCfgInvalid is upstream's JSSourceDurableConsumerCfgInvalid.
	ErrSourceDurableConsumerCfgInvalid = &Error{Code: 400, ErrCode: 10215, Description: "stream source consumer config is invalid"}

	// ErrSourceDurableConsumerDuplicateDetected is upstream's JSSourceDurableConsumerDuplicateDetected.
	ErrSourceDurableConsumerDuplicateDetected = &Error{Code: 400, ErrCode: 10216, Description: "duplicate stream source consumer detected"}

	// ErrSourceConsumerRequiresAckFC is upstream's JSSourceConsumerRequiresAckFCErr.
	ErrSourceConsumerRequiresAckFC = &Error{Code: 400, ErrCode: 10217, Description: "stream source consumer requires flow control ack policy"}
)

// Consumer errors: creating, updating and using a consumer (names,
// delivery and ack policies, pull and push settings, filters, priority
// groups, limits, reset).
var (
	// ErrConsumerCreate is upstream's JSConsumerCreateErrF; fill {err} with With.
	ErrConsumerCreate = &Error{Code: 500, ErrCode: 10012, Description: "{err}"}

	// ErrConsumerNameExist is upstream's JSConsumerNameExistErr.
	ErrConsumerNameExist = &Error{Code: 400, ErrCode: 10013, Description: "consumer name already in use"}

	// ErrConsumerNotFound is upstream's JSConsumerNotFoundErr.
	ErrConsumerNotFound = &Error{Code: 404, ErrCode: 10014, Description: "consumer not found"}

	// ErrConsumerDurableNameNotInSubject is upstream's JSConsumerDurableNameNotInSubjectErr.
	ErrConsumerDurableNameNotInSubject = &Error{Code: 400, ErrCode: 10016, Description: "consumer expected to be durable but no durable name set in subject"}

	// ErrConsumerDurableNameNotMatchSubject is upstream's JSConsumerDurableNameNotMatchSubjectErr.
	ErrConsumerDurableNameNotMatchSubject = &Error{Code: 400, ErrCode: 10017, Description: "consumer name in subject does not match durable name in request"}

	// ErrConsumerDurableNameNotSet is upstream's JSConsumerDurableNameNotSetErr.
	ErrConsumerDurableNameNotSet = &Error{Code: 400, ErrCode: 10018, Description: "consumer expected to be durable but a durable name was not set"}

	// ErrConsumerEphemeralWithDurableInSubject is upstream's JSConsumerEphemeralWithDurableInSubjectErr.
	ErrConsumerEphemeralWithDurableInSubject = &Error{Code: 400, ErrCode: 10019, Description: "consumer expected to be ephemeral but detected a durable name set in subject"}

	// ErrConsumerEphemeralWithDurableName is upstream's JSConsumerEphemeralWithDurableNameErr.
	ErrConsumerEphemeralWithDurableName = &Error{Code: 400, ErrCode: 10020, Description: "consumer expected to be ephemeral but a durable name was set in request"}

	// ErrConsumerConfigRequired is upstream's JSConsumerConfigRequiredErr.
	ErrConsumerConfigRequired = &Error{Code: 400, ErrCode: 10078, Description: "consumer config required"}

	// ErrConsumerDeliverToWildcards is upstream's JSConsumerDeliverToWildcardsErr.
	ErrConsumerDeliverToWildcards = &Error{Code: 400, ErrCode: 10079, Description: "consumer deliver subject has wildcards"}

	// ErrConsumerPushMaxWaiting is upstream's JSConsumerPushMaxWaitingErr.
	ErrConsumerPushMaxWaiting = &Error{Code: 400, ErrCode: 10080, Description: "consumer in push mode can not set max waiting"}

	// ErrConsumerDeliverCycle is upstream's JSConsumerDeliverCycleErr.
	ErrConsumerDeliverCycle = &Error{Code: 400, ErrCode: 10081, Description: "consumer deliver subject forms a cycle"}

	// ErrConsumerMaxPendingAckPolicyRequired is upstream's JSConsumerMaxPendingAckPolicyRequiredErr.
	ErrConsumerMaxPendingAckPolicyRequired = &Error{Code: 400, ErrCode: 10082, Description: "consumer requires ack policy for max ack pending"}

	// ErrConsumerSmallHeartbeat is upstream's JSConsumerSmallHeartbeatErr.
	ErrConsumerSmallHeartbeat = &Error{Code: 400, ErrCode: 10083, Description: "consumer idle heartbeat needs to be >= 100ms"}

	// ErrConsumerPullRequiresAck is upstream's JSConsumerPullRequiresAckErr.
	ErrConsumerPullRequiresAck = &Error{Code: 400, ErrCode: 10084, Description: "consumer in pull mode requires explicit ack policy on workqueue stream"}

	// ErrConsumerPullNotDurable is upstream's JSConsumerPullNotDurableErr.
	ErrConsumerPullNotDurable = &Error{Code: 400, ErrCode: 10085, Description: "consumer in pull mode requires a durable name"}

	// ErrConsumerPullWithRateLimit is upstream's JSConsumerPullWithRateLimitErr.
	ErrConsumerPullWithRateLimit = &Error{Code: 400, ErrCode: 10086, Description: "consumer in pull mode can not have rate limit set"}

	// ErrConsumerMaxWaitingNegative is upstream's JSConsumerMaxWaitingNegativeErr.
	ErrConsumerMaxWaitingNegative = &Error{Code: 400, ErrCode: 10087, Description: "consumer max waiting needs to be positive"}

	// ErrConsumerHBRequiresPush is upstream's JSConsumerHBRequiresPushErr.
	ErrConsumerHBRequiresPush = &Error{Code: 400, ErrCode: 10088, Description: "consumer idle heartbeat requires a push based consumer"}

	// ErrConsumerFCRequiresPush is upstream's JSConsumerFCRequiresPushErr.
	ErrConsumerFCRequiresPush = &Error{Code: 400, ErrCode: 10089, Description: "consumer flow control requires a push based consumer"}

	// ErrConsumerDirectRequiresPush is upstream's JSConsumerDirectRequiresPushErr.
	ErrConsumerDirectRequiresPush = &Error{Code: 400, ErrCode: 10090, Description: "consumer direct requires a push based consumer"}

	// ErrConsumerDirectRequiresEphemeral is upstream's JSConsumerDirectRequiresEphemeralErr.
	ErrConsumerDirectRequiresEphemeral = &Error{Code: 400, ErrCode: 10091, Description: "consumer direct requires an ephemeral consumer"}

	// ErrConsumerOnMapped is upstream's JSConsumerOnMappedErr.
	ErrConsumerOnMapped = &Error{Code: 400, ErrCode: 10092, Description: "consumer direct on a mapped consumer"}

	// ErrConsumerFilterNotSubset is upstream's JSConsumerFilterNotSubsetErr.
	ErrConsumerFilterNotSubset = &Error{Code: 400, ErrCode: 10093, Description: "consumer filter subject is not a valid subset of the interest subjects"}

	// ErrConsumerInvalidPolicy is upstream's JSConsumerInvalidPolicyErrF; fill {err} with With.
	ErrConsumerInvalidPolicy = &Error{Code: 400, ErrCode: 10094, Description: "{err}"}

	// ErrConsumerInvalidSampling is upstream's JSConsumerInvalidSamplingErrF; fill {err} with With.
	ErrConsumerInvalidSampling = &Error{Code: 400, ErrCode: 10095, Description: "failed to parse consumer sampling configuration: {err}"}

	// ErrConsumerWQRequiresExplicitAck is upstream's JSConsumerWQRequiresExplicitAckErr.
	ErrConsumerWQRequiresExplicitAck = &Error{Code: 400, ErrCode: 10098, Description: "workqueue stream requires explicit ack"}

	// ErrConsumerWQMultipleUnfiltered is upstream's JSConsumerWQMultipleUnfilteredErr.
	ErrConsumerWQMultipleUnfiltered = &Error{Code: 400, ErrCode: 10099, Description: "multiple non-filtered consumers not allowed on workqueue stream"}

	// ErrConsumerWQConsumerNotUnique is upstream's JSConsumerWQConsumerNotUniqueErr.
	ErrConsumerWQConsumerNotUnique = &Error{Code: 400, ErrCode: 10100, Description: "filtered consumer not unique on workqueue stream"}

	// ErrConsumerWQConsumerNotDeliverAll is upstream's JSConsumerWQConsumerNotDeliverAllErr.
	ErrConsumerWQConsumerNotDeliverAll = &Error{Code: 400, ErrCode: 10101, Description: "consumer must be deliver all on workqueue stream"}

	// ErrConsumerNameTooLong is upstream's JSConsumerNameTooLongErrF; fill {max} with With.
	ErrConsumerNameTooLong = &Error{Code: 400, ErrCode: 10102, Description: "consumer name is too long, maximum allowed is {max}"}

	// ErrConsumerBadDurableName is upstream's JSConsumerBadDurableNameErr.
	ErrConsumerBadDurableName = &Error{Code: 400, ErrCode: 10103, Description: "durable name can not contain '.', '*', '>'"}

	// ErrConsumerStoreFailed is upstream's JSConsumerStoreFailedErrF; fill {err} with With.
	ErrConsumerStoreFailed = &Error{Code: 500, ErrCode: 10104, Description: "error creating store for consumer: {err}"}

	// ErrConsumerExistingActive is upstream's JSConsumerExistingActiveErr.
	ErrConsumerExistingActive = &Error{Code: 400, ErrCode: 10105, Description: "consumer already exists and is still active"}

	// ErrConsumerReplacementWithDifferentName is upstream's JSConsumerReplacementWithDifferentNameErr.
	ErrConsumerReplacementWithDifferentName = &Error{Code: 400, ErrCode: 10106, Description: "consumer replacement durable config not the same"}

	// ErrConsumerDescriptionTooLong is upstream's JSConsumerDescriptionTooLongErrF; fill {max} with With.
	ErrConsumerDescriptionTooLong = &Error{Code: 400, ErrCode: 10107, Description: "consumer description is too long, maximum allowed is {max}"}

	// ErrConsumerWithFlowControlNeedsHeartbeats is upstream's JSConsumerWithFlowControlNeedsHeartbeats.
	ErrConsumerWithFlowControlNeedsHeartbeats = &Error{Code: 400, ErrCode: 10108, Description: "consumer with flow control also needs heartbeats"}

	// ErrConsumerInvalidDeliverSubject is upstream's JSConsumerInvalidDeliverSubject.
	ErrConsumerInvalidDeliverSubject = &Error{Code: 400, ErrCode: 10112, Description: "invalid push consumer deliver subject"}

	// ErrConsumerMaxRequestBatchNegative is upstream's JSConsumerMaxRequestBatchNegativeErr.
	ErrConsumerMaxRequestBatchNegative = &Error{Code: 400, ErrCode: 10114, Description: "consumer max request batch needs to be > 0"}

	// ErrConsumerMaxRequestExpiresTooSmall is upstream's JSConsumerMaxRequestExpiresTooSmall.
	ErrConsumerMaxRequestExpiresTooSmall = &Error{Code: 400, ErrCode: 10115, Description: "consumer max request expires needs to be >= 1ms"}

	// ErrConsumerMaxDeliverBackoff is upstream's JSConsumerMaxDeliverBackoffErr.
	ErrConsumerMaxDeliverBackoff = &Error{Code: 400, ErrCode: 10116, Description: "max deliver is required to be > length of backoff values"}

	// ErrConsumerOffline is upstream's JSConsumerOfflineErr.
	ErrConsumerOffline = &Error{Code: 500, ErrCode: 10119, Description: "consumer is offline"}

	// ErrConsumerMaxPendingAckExcess is upstream's JSConsumerMaxPendingAckExcessErrF; fill {limit} with With.
	ErrConsumerMaxPendingAckExcess = &Error{Code: 400, ErrCode: 10121, Description: "consumer max ack pending exceeds system limit of {limit}"}

	// ErrConsumerMaxRequestBatchExceeded is upstream's JSConsumerMaxRequestBatchExceededF; fill {limit} with With.
	ErrConsumerMaxRequestBatchExceeded = &Error{Code: 400, ErrCode: 10125, Description: "consumer max request batch exceeds server limit of {limit}"}

	// ErrConsumerReplicasExceedsStream is upstream's JSConsumerReplicasExceedsStream.
	ErrConsumerReplicasExceedsStream = &Error{Code: 400, ErrCode: 10126, Description: "consumer config replica count exceeds parent stream"}

	// ErrConsumerNameContainsPathSeparators is upstream's JSConsumerNameContainsPathSeparatorsErr.
	ErrConsumerNameContainsPathSeparators = &Error{Code: 400, ErrCode: 10127, Description: "Consumer name can not contain path separators"}

	// ErrConsumerCreateFilterSubjectMismatch is upstream's JSConsumerCreateFilterSubjectMismatchErr.
	ErrConsumerCreateFilterSubjectMismatch = &Error{Code: 400, ErrCode: 10131, Description: "Consumer create request did not match filtered subject from create subject"}

	// ErrConsumerCreateDurableAndNameMismatch is upstream's JSConsumerCreateDurableAndNameMismatch.
	ErrConsumerCreateDurableAndNameMismatch = &Error{Code: 400, ErrCode: 10132, Description: "Consumer Durable and Name have to be equal if both are provided"}

	// ErrConsumerReplicasShouldMatchStream is upstream's JSConsumerReplicasShouldMatchStream.
	ErrConsumerReplicasShouldMatchStream = &Error{Code: 400, ErrCode: 10134, Description: "consumer config replicas must match interest retention stream's replicas"}

	// ErrConsumerMetadataLength is upstream's JSConsumerMetadataLengthErrF; fill {limit} with With.
	ErrConsumerMetadataLength = &Error{Code: 400, ErrCode: 10135, Description: "consumer metadata exceeds maximum size of {limit}"}

	// ErrConsumerDuplicateFilterSubjects is upstream's JSConsumerDuplicateFilterSubjects.
	ErrConsumerDuplicateFilterSubjects = &Error{Code: 400, ErrCode: 10136, Description: "consumer cannot have both FilterSubject and FilterSubjects specified"}

	// ErrConsumerMultipleFiltersNotAllowed is upstream's JSConsumerMultipleFiltersNotAllowed.
	ErrConsumerMultipleFiltersNotAllowed = &Error{Code: 400, ErrCode: 10137, Description: "consumer with multiple subject filters cannot use subject based API"}

	// ErrConsumerOverlappingSubjectFilters is upstream's JSConsumerOverlappingSubjectFilters.
	ErrConsumerOverlappingSubjectFilters = &Error{Code: 400, ErrCode: 10138, Description: "consumer subject filters cannot overlap"}

	// ErrConsumerEmptyFilter is upstream's JSConsumerEmptyFilter.
	ErrConsumerEmptyFilter = &Error{Code: 400, ErrCode: 10139, Description: "consumer filter in FilterSubjects cannot be empty"}

	// ErrConsumerAlreadyExists is upstream's JSConsumerAlreadyExists.
	ErrConsumerAlreadyExists = &Error{Code: 400, ErrCode: 10148, Description: "consumer already exists"}

	// ErrConsumerDoesNotExist is upstream's JSConsumerDoesNotExist.
	ErrConsumerDoesNotExist = &Error{Code: 400, ErrCode: 10149, Description: "consumer does not exist"}

	// ErrConsumerInactiveThresholdExcess is upstream's JSConsumerInactiveThresholdExcess; fill {limit} with With.
	ErrConsumerInactiveThresholdExcess = &Error{Code: 400, ErrCode: 10153, Description: "consumer inactive threshold exceeds system limit of {limit}"}

	// ErrConsumerPriorityPolicyWithoutGroup is upstream's JSConsumerPriorityPolicyWithoutGroup.
	ErrConsumerPriorityPolicyWithoutGroup = &Error{Code: 400, ErrCode: 10159, Description: "Setting PriorityPolicy requires at least one PriorityGroup to be set"}

	// ErrConsumerInvalidPriorityGroup is upstream's JSConsumerInvalidPriorityGroupErr.
	ErrConsumerInvalidPriorityGroup = &Error{Code: 400, ErrCode: 10160, Description: "Provided priority group does not exist for this consumer"}

	// ErrConsumerEmptyGroupName is upstream's JSConsumerEmptyGroupName.
	ErrConsumerEmptyGroupName = &Error{Code: 400, ErrCode: 10161, Description: "Group name cannot be an empty string"}

	// ErrConsumerInvalidGroupName is upstream's JSConsumerInvalidGroupNameErr.
	ErrConsumerInvalidGroupName = &Error{Code: 400, ErrCode: 10162, Description: "Valid priority group name must match A-Z, a-z, 0-9, -_/=)+ and may not exceed 16 characters"}

	// ErrConsumerPushWithPriorityGroup is upstream's JSConsumerPushWithPriorityGroupErr.
	ErrConsumerPushWithPriorityGroup = &Error{Code: 400, ErrCode: 10178, Description: "priority groups can not be used with push consumers"}

	// ErrConsumerAckPolicyInvalid is upstream's JSConsumerAckPolicyInvalidErr.
	ErrConsumerAckPolicyInvalid = &Error{Code: 400, ErrCode: 10181, Description: "consumer ack policy invalid"}

	// ErrConsumerReplayPolicyInvalid is upstream's JSConsumerReplayPolicyInvalidErr.
	ErrConsumerReplayPolicyInvalid = &Error{Code: 400, ErrCode: 10182, Description: "consumer replay policy invalid"}

	// ErrConsumerAckWaitNegative is upstream's JSConsumerAckWaitNegativeErr.
	ErrConsumerAckWaitNegative = &Error{Code: 400, ErrCode: 10183, Description: "consumer ack wait needs to be positive"}

	// ErrConsumerBackOffNegative is upstream's JSConsumerBackOffNegativeErr.
	ErrConsumerBackOffNegative = &Error{Code: 400, ErrCode: 10184, Description: "consumer backoff needs to be positive"}

	// ErrConsumerOfflineReason is upstream's JSConsumerOfflineReasonErrF; fill {err} with With.
	ErrConsumerOfflineReason = &Error{Code: 500, ErrCode: 10195, Description: "consumer is offline: {err}"}

	// ErrConsumerPriorityGroupWithPolicyNone is upstream's JSConsumerPriorityGroupWithPolicyNone.
	ErrConsumerPriorityGroupWithPolicyNone = &Error{Code: 400, ErrCode: 10196, Description: "consumer can not have priority groups when policy is none"}

	// ErrConsumerPinnedTTLWithoutPriorityPolicyNone is upstream's JSConsumerPinnedTTLWithoutPriorityPolicyNone.
	ErrConsumerPinnedTTLWithoutPriorityPolicyNone = &Error{Code: 400, ErrCode: 10197, Description: "PinnedTTL cannot be set when PriorityPolicy is none"}

	// ErrConsumerInvalidReset is upstream's JSConsumerInvalidResetErr; fill {err} with With.
	ErrConsumerInvalidReset = &Error{Code: 400, ErrCode: 10204, Description: "invalid reset: {err}"}

	// ErrConsumerAckFCRequiresPush is upstream's JSConsumerAckFCRequiresPushErr.
	ErrConsumerAckFCRequiresPush = &Error{Code: 400, ErrCode: 10218, Description: "flow control ack policy requires a push based consumer"}

	// ErrConsumerAckFCRequiresFC is upstream's JSConsumerAckFCRequiresFCErr.
	ErrConsumerAckFCRequiresFC = &Error{Code: 400, ErrCode: 10219, Description: "flow control ack policy requires flow control"}

	// ErrConsumerAckFCRequiresMaxAckPending is upstream's JSConsumerAckFCRequiresMaxAckPendingErr.
	ErrConsumerAckFCRequiresMaxAckPending = &Error{Code: 400, ErrCode: 10220, Description: "flow control ack policy requires max ack pending"}

	// ErrConsumerAckFCRequiresNoAckWait is upstream's JSConsumerAckFCRequiresNoAckWaitErr.
	ErrConsumerAckFCRequiresNoAckWait = &Error{Code: 400, ErrCode: 10221, Description: "flow control ack policy requires unset ack wait"}

	// ErrConsumerAckFCRequiresNoMaxDeliver is upstream's JSConsumerAckFCRequiresNoMaxDeliverErr.
	ErrConsumerAckFCRequiresNoMaxDeliver = &Error{Code: 400, ErrCode: 10222, Description: "flow control ack policy requires unset max deliver"}

	// ErrConsumerStreamIdentityMismatch is upstream's JSConsumerStreamIdentityMismatchF; fill {msg} with With.
	ErrConsumerStreamIdentityMismatch = &Error{Code: 400, ErrCode: 10225, Description: "consumer's stream identity does not match: {msg}"}
)

// Per-message TTL (Nats-TTL, ADR-43) and counter (Nats-Incr, ADR-49)
// errors.
var (
	// ErrMessageTTLInvalid is upstream's JSMessageTTLInvalidErr.
	ErrMessageTTLInvalid = &Error{Code: 400, ErrCode: 10165, Description: "invalid per-message TTL"}

	// ErrMessageTTLDisabled is upstream's JSMessageTTLDisabledErr.
	ErrMessageTTLDisabled = &Error{Code: 400, ErrCode: 10166, Description: "per-message TTL is disabled"}

	// ErrMessageIncrDisabled is upstream's JSMessageIncrDisabledErr.
	ErrMessageIncrDisabled = &Error{Code: 400, ErrCode: 10168, Description: "message counters is disabled"}

	// ErrMessageIncrMissing is upstream's JSMessageIncrMissingErr.
	ErrMessageIncrMissing = &Error{Code: 400, ErrCode: 10169, Description: "message counter increment is missing"}

	// ErrMessageIncrPayload is upstream's JSMessageIncrPayloadErr.
	ErrMessageIncrPayload = &Error{Code: 400, ErrCode: 10170, Description: "message counter has payload"}

	// ErrMessageIncrInvalid is upstream's JSMessageIncrInvalidErr.
	ErrMessageIncrInvalid = &Error{Code: 400, ErrCode: 10171, Description: "message counter increment is invalid"}

	// ErrMessageCounterBroken is upstream's JSMessageCounterBrokenErr.
	ErrMessageCounterBroken = &Error{Code: 400, ErrCode: 10172, Description: "message counter is broken"}
)

// Message schedule errors (ADR-51).
var (
	// ErrMessageSchedulesDisabled is upstream's JSMessageSchedulesDisabledErr.
	ErrMessageSchedulesDisabled = &Error{Code: 400, ErrCode: 10188, Description: "message schedules is disabled"}

	// ErrMessageSchedulesPatternInvalid is upstream's JSMessageSchedulesPatternInvalidErr.
	ErrMessageSchedulesPatternInvalid = &Error{Code: 400, ErrCode: 10189, Description: "message schedules pattern is invalid"}

	// ErrMessageSchedulesTargetInvalid is upstream's JSMessageSchedulesTargetInvalidErr.
	ErrMessageSchedulesTargetInvalid = &Error{Code: 400, ErrCode: 10190, Description: "message schedules target is invalid"}

	// ErrMessageSchedulesTTLInvalid is upstream's JSMessageSchedulesTTLInvalidErr.
	ErrMessageSchedulesTTLInvalid = &Error{Code: 400, ErrCode: 10191, Description: "message schedules invalid per-message TTL"}

	// ErrMessageSchedulesRollupInvalid is upstream's JSMessageSchedulesRollupInvalidErr.
	ErrMessageSchedulesRollupInvalid = &Error{Code: 400, ErrCode: 10192, Description: "message schedules invalid rollup"}

	// ErrMessageSchedulesSourceInvalid is upstream's JSMessageSchedulesSourceInvalidErr.
	ErrMessageSchedulesSourceInvalid = &Error{Code: 400, ErrCode: 10203, Description: "message schedules source is invalid"}

	// ErrMessageSchedulesSchedulerInvalid is upstream's JSMessageSchedulesSchedulerInvalidErr.
	ErrMessageSchedulesSchedulerInvalid = &Error{Code: 400, ErrCode: 10212, Description: "message schedules invalid scheduler"}

	// ErrMessageSchedulesTimeZoneInvalid is upstream's JSMessageSchedulesTimeZoneInvalidErr.
	ErrMessageSchedulesTimeZoneInvalid = &Error{Code: 400, ErrCode: 10223, Description: "message schedules time zone is invalid"}
)

// Atomic batch publish errors (Nats-Batch-* headers, ADR-50).
var (
	// ErrAtomicPublishDisabled is upstream's JSAtomicPublishDisabledErr.
	ErrAtomicPublishDisabled = &Error{Code: 400, ErrCode: 10174, Description: "atomic publish is disabled"}

	// ErrAtomicPublishMissingSeq is upstream's JSAtomicPublishMissingSeqErr.
	ErrAtomicPublishMissingSeq = &Error{Code: 400, ErrCode: 10175, Description: "atomic publish sequence is missing"}

	// ErrAtomicPublishIncompleteBatch is upstream's JSAtomicPublishIncompleteBatchErr.
	ErrAtomicPublishIncompleteBatch = &Error{Code: 400, ErrCode: 10176, Description: "atomic publish batch is incomplete"}

	// ErrAtomicPublishUnsupportedHeaderBatch is upstream's JSAtomicPublishUnsupportedHeaderBatchErr; fill {header} with With.
	ErrAtomicPublishUnsupportedHeaderBatch = &Error{Code: 400, ErrCode: 10177, Description: "atomic publish unsupported header used: {header}"}

	// ErrAtomicPublishInvalidBatchID is upstream's JSAtomicPublishInvalidBatchIDErr.
	ErrAtomicPublishInvalidBatchID = &Error{Code: 400, ErrCode: 10179, Description: "atomic publish batch ID is invalid"}

	// ErrAtomicPublishTooLargeBatch is upstream's JSAtomicPublishTooLargeBatchErrF; fill {size} with With.
	ErrAtomicPublishTooLargeBatch = &Error{Code: 400, ErrCode: 10199, Description: "atomic publish batch is too large: {size}"}

	// ErrAtomicPublishInvalidBatchCommit is upstream's JSAtomicPublishInvalidBatchCommitErr.
	ErrAtomicPublishInvalidBatchCommit = &Error{Code: 400, ErrCode: 10200, Description: "atomic publish batch commit is invalid"}

	// ErrAtomicPublishContainsDuplicateMessage is upstream's JSAtomicPublishContainsDuplicateMessageErr.
	ErrAtomicPublishContainsDuplicateMessage = &Error{Code: 400, ErrCode: 10201, Description: "atomic publish batch contains duplicate message id"}

	// ErrAtomicPublishTooManyInflight is upstream's JSAtomicPublishTooManyInflight.
	ErrAtomicPublishTooManyInflight = &Error{Code: 429, ErrCode: 10210, Description: "atomic publish too many inflight"}
)

// Fast batch publish errors (allow_batched, ADR-50).
var (
	// ErrBatchPublishDisabled is upstream's JSBatchPublishDisabledErr.
	ErrBatchPublishDisabled = &Error{Code: 400, ErrCode: 10205, Description: "batch publish is disabled"}

	// ErrBatchPublishInvalidPattern is upstream's JSBatchPublishInvalidPatternErr.
	ErrBatchPublishInvalidPattern = &Error{Code: 400, ErrCode: 10206, Description: "batch publish pattern is invalid"}

	// ErrBatchPublishInvalidBatchID is upstream's JSBatchPublishInvalidBatchIDErr.
	ErrBatchPublishInvalidBatchID = &Error{Code: 400, ErrCode: 10207, Description: "batch publish ID is invalid"}

	// ErrBatchPublishUnknownBatchID is upstream's JSBatchPublishUnknownBatchIDErr.
	ErrBatchPublishUnknownBatchID = &Error{Code: 400, ErrCode: 10208, Description: "batch publish ID unknown"}

	// ErrBatchPublishTooManyInflight is upstream's JSBatchPublishTooManyInflight.
	ErrBatchPublishTooManyInflight = &Error{Code: 429, ErrCode: 10211, Description: "batch publish too many inflight"}
)

// table lists every error of this file in ErrCode order.
var table = [...]*Error{
	ErrAccountResourcesExceeded,
	ErrBadRequest,
	ErrClusterIncomplete,
	ErrClusterNoPeers,
	ErrClusterNotActive,
	ErrClusterNotAssigned,
	ErrClusterNotAvail,
	ErrClusterNotLeader,
	ErrClusterRequired,
	ErrClusterTags,
	ErrConsumerCreate,
	ErrConsumerNameExist,
	ErrConsumerNotFound,
	ErrSnapshotDeliverSubjectInvalid,
	ErrConsumerDurableNameNotInSubject,
	ErrConsumerDurableNameNotMatchSubject,
	ErrConsumerDurableNameNotSet,
	ErrConsumerEphemeralWithDurableInSubject,
	ErrConsumerEphemeralWithDurableName,
	ErrStreamExternalApiOverlap,
	ErrStreamExternalDelPrefixOverlaps,
	ErrInsufficientResources,
	ErrStreamInvalidExternalDeliverySubj,
	ErrInvalidJSON,
	ErrMaximumConsumersLimit,
	ErrMaximumStreamsLimit,
	ErrMemoryResourcesExceeded,
	ErrMirrorConsumerSetupFailed,
	ErrMirrorMaxMessageSizeTooBig,
	ErrMirrorWithSources,
	ErrMirrorWithStartSeqAndTime,
	ErrMirrorWithSubjectFilters,
	ErrMirrorWithSubjects,
	ErrNoAccount,
	ErrClusterUnSupportFeature,
	ErrNoMessageFound,
	ErrNotEmptyRequest,
	ErrNotEnabledForAccount,
	ErrClusterPeerNotMember,
	ErrRaftGeneral,
	ErrRestoreSubscribeFailed,
	ErrSequenceNotFound,
	ErrClusterServerNotMember,
	ErrSourceConsumerSetupFailed,
	ErrSourceMaxMessageSizeTooBig,
	ErrStorageResourcesExceeded,
	ErrStreamAssignment,
	ErrStreamCreate,
	ErrStreamDelete,
	ErrStreamGeneral,
	ErrStreamInvalidConfig,
	ErrStreamLimits,
	ErrStreamMessageExceedsMaximum,
	ErrStreamMirrorNotUpdatable,
	ErrStreamMismatch,
	ErrStreamMsgDeleteFailed,
	ErrStreamNameExist,
	ErrStreamNotFound,
	ErrStreamNotMatch,
	ErrStreamReplicasNotUpdatable,
	ErrStreamRestore,
	ErrStreamSequenceNotMatch,
	ErrStreamSnapshot,
	ErrStreamSubjectOverlap,
	ErrStreamTemplateCreate,
	ErrStreamTemplateDelete,
	ErrStreamTemplateNotFound,
	ErrStreamUpdate,
	ErrStreamWrongLastMsgID,
	ErrStreamWrongLastSequence,
	ErrTempStorageFailed,
	ErrTemplateNameNotMatchSubject,
	ErrStreamReplicasNotSupported,
	ErrPeerRemap,
	ErrNotEnabled,
	ErrStreamStoreFailed,
	ErrConsumerConfigRequired,
	ErrConsumerDeliverToWildcards,
	ErrConsumerPushMaxWaiting,
	ErrConsumerDeliverCycle,
	ErrConsumerMaxPendingAckPolicyRequired,
	ErrConsumerSmallHeartbeat,
	ErrConsumerPullRequiresAck,
	ErrConsumerPullNotDurable,
	ErrConsumerPullWithRateLimit,
	ErrConsumerMaxWaitingNegative,
	ErrConsumerHBRequiresPush,
	ErrConsumerFCRequiresPush,
	ErrConsumerDirectRequiresPush,
	ErrConsumerDirectRequiresEphemeral,
	ErrConsumerOnMapped,
	ErrConsumerFilterNotSubset,
	ErrConsumerInvalidPolicy,
	ErrConsumerInvalidSampling,
	ErrStreamInvalid,
	ErrStreamHeaderExceedsMaximum,
	ErrConsumerWQRequiresExplicitAck,
	ErrConsumerWQMultipleUnfiltered,
	ErrConsumerWQConsumerNotUnique,
	ErrConsumerWQConsumerNotDeliverAll,
	ErrConsumerNameTooLong,
	ErrConsumerBadDurableName,
	ErrConsumerStoreFailed,
	ErrConsumerExistingActive,
	ErrConsumerReplacementWithDifferentName,
	ErrConsumerDescriptionTooLong,
	ErrConsumerWithFlowControlNeedsHeartbeats,
	ErrStreamSealed,
	ErrStreamPurgeFailed,
	ErrStreamRollupFailed,
	ErrConsumerInvalidDeliverSubject,
	ErrStreamMaxBytesRequired,
	ErrConsumerMaxRequestBatchNegative,
	ErrConsumerMaxRequestExpiresTooSmall,
	ErrConsumerMaxDeliverBackoff,
	ErrStreamInfoMaxSubjects,
	ErrStreamOffline,
	ErrConsumerOffline,
	ErrNoLimits,
	ErrConsumerMaxPendingAckExcess,
	ErrStreamMaxStreamBytesExceeded,
	ErrStreamMoveAndScale,
	ErrStreamMoveInProgress,
	ErrConsumerMaxRequestBatchExceeded,
	ErrConsumerReplicasExceedsStream,
	ErrConsumerNameContainsPathSeparators,
	ErrStreamNameContainsPathSeparators,
	ErrStreamReconfigureNotInProgress,
	ErrStreamNameExistRestoreFailed,
	ErrConsumerCreateFilterSubjectMismatch,
	ErrConsumerCreateDurableAndNameMismatch,
	ErrReplicasCountCannotBeNegative,
	ErrConsumerReplicasShouldMatchStream,
	ErrConsumerMetadataLength,
	ErrConsumerDuplicateFilterSubjects,
	ErrConsumerMultipleFiltersNotAllowed,
	ErrConsumerOverlappingSubjectFilters,
	ErrConsumerEmptyFilter,
	ErrSourceDuplicateDetected,
	ErrSourceInvalidStreamName,
	ErrMirrorInvalidStreamName,
	ErrMirrorWithFirstSeq,
	ErrSourceMultipleFiltersNotAllowed,
	ErrSourceInvalidSubjectFilter,
	ErrSourceInvalidTransformDestination,
	ErrSourceOverlappingSubjectFilters,
	ErrConsumerAlreadyExists,
	ErrConsumerDoesNotExist,
	ErrMirrorMultipleFiltersNotAllowed,
	ErrMirrorInvalidSubjectFilter,
	ErrMirrorOverlappingSubjectFilters,
	ErrConsumerInactiveThresholdExcess,
	ErrMirrorInvalidTransformDestination,
	ErrStreamTransformInvalidSource,
	ErrStreamTransformInvalidDestination,
	ErrPedantic,
	ErrStreamDuplicateMessageConflict,
	ErrConsumerPriorityPolicyWithoutGroup,
	ErrConsumerInvalidPriorityGroup,
	ErrConsumerEmptyGroupName,
	ErrConsumerInvalidGroupName,
	ErrStreamExpectedLastSeqPerSubjectNotReady,
	ErrStreamWrongLastSequenceConstant,
	ErrMessageTTLInvalid,
	ErrMessageTTLDisabled,
	ErrStreamTooManyRequests,
	ErrMessageIncrDisabled,
	ErrMessageIncrMissing,
	ErrMessageIncrPayload,
	ErrMessageIncrInvalid,
	ErrMessageCounterBroken,
	ErrMirrorWithCounters,
	ErrAtomicPublishDisabled,
	ErrAtomicPublishMissingSeq,
	ErrAtomicPublishIncompleteBatch,
	ErrAtomicPublishUnsupportedHeaderBatch,
	ErrConsumerPushWithPriorityGroup,
	ErrAtomicPublishInvalidBatchID,
	ErrStreamMinLastSeq,
	ErrConsumerAckPolicyInvalid,
	ErrConsumerReplayPolicyInvalid,
	ErrConsumerAckWaitNegative,
	ErrConsumerBackOffNegative,
	ErrRequiredApiLevel,
	ErrMirrorWithMsgSchedules,
	ErrSourceWithMsgSchedules,
	ErrMessageSchedulesDisabled,
	ErrMessageSchedulesPatternInvalid,
	ErrMessageSchedulesTargetInvalid,
	ErrMessageSchedulesTTLInvalid,
	ErrMessageSchedulesRollupInvalid,
	ErrStreamExpectedLastSeqPerSubjectInvalid,
	ErrStreamOfflineReason,
	ErrConsumerOfflineReason,
	ErrConsumerPriorityGroupWithPolicyNone,
	ErrConsumerPinnedTTLWithoutPriorityPolicyNone,
	ErrMirrorWithAtomicPublish,
	ErrAtomicPublishTooLargeBatch,
	ErrAtomicPublishInvalidBatchCommit,
	ErrAtomicPublishContainsDuplicateMessage,
	ErrClusterServerMemberChangeInflight,
	ErrMessageSchedulesSourceInvalid,
	ErrConsumerInvalidReset,
	ErrBatchPublishDisabled,
	ErrBatchPublishInvalidPattern,
	ErrBatchPublishInvalidBatchID,
	ErrBatchPublishUnknownBatchID,
	ErrMirrorWithBatchPublish,
	ErrAtomicPublishTooManyInflight,
	ErrBatchPublishTooManyInflight,
	ErrMessageSchedulesSchedulerInvalid,
	ErrMirrorDurableConsumerCfgInvalid,
	ErrMirrorConsumerRequiresAckFC,
	ErrSourceDurableConsumerCfgInvalid,
	ErrSourceDurableConsumerDuplicateDetected,
	ErrSourceConsumerRequiresAckFC,
	ErrConsumerAckFCRequiresPush,
	ErrConsumerAckFCRequiresFC,
	ErrConsumerAckFCRequiresMaxAckPending,
	ErrConsumerAckFCRequiresNoAckWait,
	ErrConsumerAckFCRequiresNoMaxDeliver,
	ErrMessageSchedulesTimeZoneInvalid,
	ErrClusterRescue,
	ErrConsumerStreamIdentityMismatch,
	ErrStreamReconfigureInProgress,
}

// byCode indexes table by ErrCode.
var byCode = func() map[uint16]*Error {
	m := make(map[uint16]*Error, len(table))
	for _, e := range table {
		m[e.ErrCode] = e
	}
	return m
}()

// Lookup returns the error of the table whose ErrCode is errCode, or nil
// when upstream defines none. The result is the shared variable: callers
// take a filled copy with With rather than modify it.
func Lookup(errCode uint16) *Error { return byCode[errCode] }
