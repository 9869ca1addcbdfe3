package telemetry

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// An uploader sends a batch of ended spans, and keeps nothing of it once
// upload returns.
type uploader interface {
	upload(ctx context.Context, ops []*Op) error
	Shutdown(ctx context.Context) error
}

// otlpUploader sends spans with the SDK's OTLP exporter clients (HTTP or
// gRPC, as the environment configures them), in the records the SDK's
// exporter would build from the same spans (TestRecordsAreTheSDKs), but
// built here, into the records of the batch before: the SDK's exporter
// allocates a record, an attribute and its value anew for each, about
// twenty allocations a request, the most of what tracing allocates.
type otlpUploader struct {
	client otlptrace.Client
	rec    records
	// The client is stopped once, as the SDK's exporter stops it: the
	// gRPC client's second Stop is an error.
	stop sync.Once
}

func newOTLPUploader(ctx context.Context, client otlptrace.Client, res *resource.Resource, scope instrumentation.Scope) (*otlpUploader, error) {
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("traces exporter: %w", err)
	}
	return &otlpUploader{client: client, rec: newRecords(res, scope)}, nil
}

func (u *otlpUploader) upload(ctx context.Context, ops []*Op) error {
	if len(ops) == 0 {
		return nil
	}
	err := u.client.UploadTraces(ctx, u.rec.build(ops))
	u.rec.release()
	if err != nil {
		return fmt.Errorf("traces export: %w", err)
	}
	return nil
}

func (u *otlpUploader) Shutdown(ctx context.Context) error {
	var err error
	u.stop.Do(func() { err = u.client.Stop(ctx) })
	return err
}

// spanExporter hands spans to an SDK span exporter, as the SDK's span
// records: for exporters other than OTLP (tests).
type spanExporter struct {
	exp   sdktrace.SpanExporter
	spans []sdktrace.ReadOnlySpan
	// The attributes of one batch's spans are built in one buffer, kept:
	// an exporter keeps nothing of a batch once ExportSpans returns.
	attrs []attribute.KeyValue
}

func (e *spanExporter) upload(ctx context.Context, ops []*Op) error {
	for _, o := range ops {
		var s sdktrace.ReadOnlySpan
		s, e.attrs = o.snapshot(e.attrs)
		e.spans = append(e.spans, s)
	}
	err := e.exp.ExportSpans(ctx, e.spans)
	clear(e.spans)
	clear(e.attrs) // no request's strings kept alive
	e.spans, e.attrs = e.spans[:0], e.attrs[:0]
	return err
}

func (e *spanExporter) Shutdown(ctx context.Context) error { return e.exp.Shutdown(ctx) }

// records are the OTLP records of one batch, kept for the next: every
// span and attribute record is set anew, each of its fields, before it
// is sent again.
type records struct {
	list  []*tracepb.ResourceSpans // the one resource, of the one scope
	scope *tracepb.ScopeSpans
	spans slab[tracepb.Span]
	stats slab[tracepb.Status]
	links slab[tracepb.Span_Link]
	kvs   slab[commonpb.KeyValue]
	vals  slab[commonpb.AnyValue]
	strs  slab[commonpb.AnyValue_StringValue]
	ints  slab[commonpb.AnyValue_IntValue]
	attrs []attribute.KeyValue
	ids   []byte // the spans' trace and span ids
}

func newRecords(res *resource.Resource, scope instrumentation.Scope) records {
	ss := &tracepb.ScopeSpans{Scope: scopeRecord(scope), SchemaUrl: scope.SchemaURL}
	rs := &tracepb.ResourceSpans{Resource: resourceRecord(res), ScopeSpans: []*tracepb.ScopeSpans{ss}}
	if res != nil {
		rs.SchemaUrl = res.SchemaURL()
	}
	return records{list: []*tracepb.ResourceSpans{rs}, scope: ss}
}

// idBytes is the room a span's ids take at most: trace, span, parent
// span, and a link's trace and span.
const idBytes = 16 + 8 + 8 + 16 + 8

// build fills the records with ops.
func (r *records) build(ops []*Op) []*tracepb.ResourceSpans {
	if need := len(ops) * idBytes; cap(r.ids) < need {
		r.ids = make([]byte, 0, need)
	}
	spans := r.scope.Spans[:0]
	for _, o := range ops {
		spans = append(spans, r.span(o))
	}
	r.scope.Spans = spans
	return r.list
}

// release lets go of what the records point to in the batch's spans,
// their strings above all, and readies them for the next.
func (r *records) release() {
	clear(r.scope.Spans)
	r.scope.Spans = r.scope.Spans[:0]
	clear(r.attrs)
	r.attrs, r.ids = r.attrs[:0], r.ids[:0]
	for _, s := range r.spans.used() {
		clear(s.Attributes) // kept for the next batch's span, empty
		s.Name, s.TraceState, s.Attributes, s.Links, s.Status = "", "", s.Attributes[:0], nil, nil
	}
	for _, kv := range r.kvs.used() {
		kv.Key, kv.Value = "", nil
	}
	for _, v := range r.vals.used() {
		v.Value = nil
	}
	for _, s := range r.strs.used() {
		s.StringValue = ""
	}
	for _, s := range r.stats.used() {
		s.Message = ""
	}
	r.spans.reset()
	r.stats.reset()
	r.links.reset()
	r.kvs.reset()
	r.vals.reset()
	r.strs.reset()
	r.ints.reset()
}

// span is o's record, as the SDK's exporter writes a span.
func (r *records) span(o *Op) *tracepb.Span {
	from := len(r.attrs)
	var dropped int
	r.attrs, dropped = o.attributes(r.attrs)
	attrs := r.attrs[from:]
	code, desc := o.status()

	s := r.spans.get()
	tid, sid := o.sc.TraceID(), o.sc.SpanID()
	s.TraceId, s.SpanId = r.id(tid[:]), r.id(sid[:])
	s.TraceState = o.sc.TraceState().String()
	s.ParentSpanId = nil
	if psid := o.parent.SpanID(); psid.IsValid() {
		s.ParentSpanId = r.id(psid[:])
	}
	s.Flags = spanFlags(o.sc.TraceFlags(), o.parent)
	s.Name = spanName(o.method, o.target)
	s.Kind = tracepb.Span_SPAN_KIND_SERVER
	if o.kind == Client {
		s.Kind = tracepb.Span_SPAN_KIND_CLIENT
	}
	s.StartTimeUnixNano, s.EndTimeUnixNano = unixNano(o.start.UnixNano()), unixNano(o.end.UnixNano())
	s.Attributes = s.Attributes[:0]
	for _, a := range attrs {
		s.Attributes = append(s.Attributes, r.keyValue(a))
	}
	s.DroppedAttributesCount = uint32(dropped)
	s.Events, s.DroppedEventsCount, s.DroppedLinksCount = nil, 0, 0
	s.Links = nil
	if o.link.IsValid() {
		l := r.links.get()
		ltid, lsid := o.link.TraceID(), o.link.SpanID()
		l.TraceId, l.SpanId = r.id(ltid[:]), r.id(lsid[:])
		l.TraceState, l.Attributes, l.DroppedAttributesCount = "", nil, 0
		l.Flags = spanFlags(o.link.TraceFlags(), o.link)
		s.Links = []*tracepb.Span_Link{l}
	}
	st := r.stats.get()
	st.Code, st.Message = tracepb.Status_STATUS_CODE_UNSET, desc
	if code == codes.Error {
		st.Code = tracepb.Status_STATUS_CODE_ERROR
	}
	s.Status = st
	return s
}

// id is a copy of a trace or span id in the batch's id buffer.
func (r *records) id(b []byte) []byte {
	at := len(r.ids)
	r.ids = append(r.ids, b...)
	return r.ids[at:len(r.ids):len(r.ids)]
}

// keyValue is a span attribute's record: strings and integers, the kinds
// spans carry, from the slabs; any other kind as the resource's are.
func (r *records) keyValue(a attribute.KeyValue) *commonpb.KeyValue {
	kv := r.kvs.get()
	kv.Key = string(a.Key)
	switch a.Value.Type() {
	case attribute.STRING:
		v, s := r.vals.get(), r.strs.get()
		s.StringValue, v.Value = a.Value.AsString(), s
		kv.Value = v
	case attribute.INT64:
		v, i := r.vals.get(), r.ints.get()
		i.IntValue, v.Value = a.Value.AsInt64(), i
		kv.Value = v
	default:
		kv.Value = anyValue(a.Value)
	}
	return kv
}

// spanFlags are the W3C flags of a span or link, with whether its parent
// (or the linked span) is remote, as OTLP has them.
func spanFlags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	flags := uint32(tf) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if parent.IsRemote() {
		flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	return flags
}

func unixNano(ns int64) uint64 { return uint64(max(0, ns)) }

// resourceRecord and scopeRecord are built once, for every batch.
func resourceRecord(res *resource.Resource) *resourcepb.Resource {
	if res == nil {
		return nil
	}
	return &resourcepb.Resource{Attributes: keyValues(res.Iter())}
}

func scopeRecord(s instrumentation.Scope) *commonpb.InstrumentationScope {
	if s == (instrumentation.Scope{}) {
		return nil
	}
	return &commonpb.InstrumentationScope{Name: s.Name, Version: s.Version, Attributes: keyValues(s.Attributes.Iter())}
}

func keyValues(it attribute.Iterator) []*commonpb.KeyValue {
	if it.Len() == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, 0, it.Len())
	for it.Next() {
		a := it.Attribute()
		out = append(out, &commonpb.KeyValue{Key: string(a.Key), Value: anyValue(a.Value)})
	}
	return out
}

// anyValue is v's record, of any kind, as the SDK's exporter writes it.
func anyValue(v attribute.Value) *commonpb.AnyValue {
	av := new(commonpb.AnyValue)
	switch v.Type() {
	case attribute.BOOL:
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}
	case attribute.INT64:
		av.Value = &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}
	case attribute.FLOAT64:
		av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}
	case attribute.STRING:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: v.AsString()}
	case attribute.BYTESLICE:
		av.Value = &commonpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}
	case attribute.BOOLSLICE:
		av.Value = arrayOf(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		av.Value = arrayOf(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		av.Value = arrayOf(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		av.Value = arrayOf(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		av.Value = arrayOf(v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		m := v.AsMap()
		kvs := make([]*commonpb.KeyValue, 0, len(m))
		for _, a := range m {
			kvs = append(kvs, &commonpb.KeyValue{Key: string(a.Key), Value: anyValue(a.Value)})
		}
		av.Value = &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}
	case attribute.EMPTY:
	default:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: "INVALID"}
	}
	return av
}

func arrayOf[T any](xs []T, value func(T) attribute.Value) *commonpb.AnyValue_ArrayValue {
	vals := make([]*commonpb.AnyValue, 0, len(xs))
	for _, x := range xs {
		vals = append(vals, anyValue(value(x)))
	}
	return &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}
}

// A slab hands out records of one type, kept from batch to batch.
type slab[T any] struct {
	items []*T
	n     int
}

func (s *slab[T]) get() *T {
	if s.n == len(s.items) {
		s.items = append(s.items, new(T))
	}
	s.n++
	return s.items[s.n-1]
}

func (s *slab[T]) used() []*T { return s.items[:s.n] }
func (s *slab[T]) reset()     { s.n = 0 }
