// Package tokens counts what an MCP server's responses cost an agent's
// context: the model tokens of the text a model would be shown, with a
// real tokenizer (OpenAI's o200k_base vocabulary, embedded, offline).
//
// Counting is slow next to serving (a few MB of text a second), so it
// never happens on the path of a call: the recorder offers each result to
// a Counter, which queues it without waiting and counts it on its own
// goroutine; when the queue is full the result is dropped and counted as
// such, never the call slowed. The count joins the call and its tool
// through Monitor.RecordResponse.
//
// What is counted is the text of the result's text content (and the text
// of embedded text resources), in order; a result with none is counted as
// its structured content's JSON. Images and audio are not text and are
// not counted: a model's price for them depends on the model.
//
// o200k_base is the vocabulary of OpenAI's GPT-4o, GPT-4.1, o-series and
// GPT-5 models; other models' tokenizers give other counts for the same
// text, so the figures compare tools with each other, and only estimate a
// given model's bill.
package tokens
