package mondoc

import (
	"cmp"
	"slices"

	"natsd.dev/server/snapshot"
	"natsd.dev/sublist"
)

// SubszOptions validates opts (nil means the defaults) and fills in its
// defaults; defLimit is the page size when opts has none. Errors are
// *snapshot.MonitorError.
func SubszOptions(opts *snapshot.SubszOptions, defLimit int) (snapshot.SubszOptions, error) {
	var o snapshot.SubszOptions
	if opts != nil {
		o = *opts
	}
	if o.Offset < 0 {
		o.Offset = 0
	}
	if o.Limit <= 0 {
		o.Limit = defLimit
	}
	if o.Test != "" && !sublist.ValidLiteralSubject(o.Test) {
		return o, monitorErr("invalid test subject, must be valid publish subject: " + o.Test)
	}
	return o, nil
}

// PageSubs sorts subs by client, sid and subject, and sets sz's Total and
// the page [Offset, Offset+Limit) of them as its Subs.
func PageSubs(sz *snapshot.Subsz, subs []snapshot.SubDetail) {
	slices.SortFunc(subs, func(a, b snapshot.SubDetail) int {
		return cmp.Or(cmp.Compare(a.Cid, b.Cid), cmp.Compare(a.Sid, b.Sid), cmp.Compare(a.Subject, b.Subject))
	})
	sz.Total = len(subs)
	// Offset+Limit may overflow for a request near the maximum int
	// (GHSA-q59r-vq66-pxc2), so the page is bounded step by step.
	lo := min(max(sz.Offset, 0), len(subs))
	hi := lo + min(max(sz.Limit, 0), len(subs)-lo)
	sz.Subs = subs[lo:hi:hi]
}

// AddStats sums the statistics of several subscription lists: counts add
// up, rates and averages are weighted.
func AddStats(dst *sublist.Stats, st sublist.Stats) {
	hits := dst.CacheHitRate*float64(dst.NumMatches) + st.CacheHitRate*float64(st.NumMatches)
	fan := dst.AvgFanout*float64(dst.NumCache) + st.AvgFanout*float64(st.NumCache)
	dst.NumSubs += st.NumSubs
	dst.NumCache += st.NumCache
	dst.NumInserts += st.NumInserts
	dst.NumRemoves += st.NumRemoves
	dst.NumMatches += st.NumMatches
	dst.MaxFanout = max(dst.MaxFanout, st.MaxFanout)
	dst.CacheHitRate, dst.AvgFanout = 0, 0
	if dst.NumMatches > 0 {
		dst.CacheHitRate = hits / float64(dst.NumMatches)
	}
	if dst.NumCache > 0 {
		dst.AvgFanout = fan / float64(dst.NumCache)
	}
}
