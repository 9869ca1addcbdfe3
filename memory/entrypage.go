package memory

// entryPage reads one page of entries from a statement that asks for one
// row more than the page holds (LIMIT limit+1): that row is not read, but
// says that there is a next page. Retrieve and both orders of Search read
// their pages this way in either store.
type entryPage struct {
	scan  entryScanner // the store's
	limit int
	read  int   // entries read so far
	more  bool  // a row came after the page's last
	last  int64 // the seq of the page's last entry
}

// rows is the statement's row callback. Each entry of the page is scanned
// with extra, the columns that follow the entry's (none, or a score), set
// too, and then passed to add.
func (p *entryPage) rows(add func(Entry), extra ...any) func(rowScanner) error {
	return func(rows rowScanner) error {
		if p.read == p.limit {
			p.more = true
			return nil
		}
		if len(extra) > 0 {
			rows = scanPlus{rows, extra}
		}
		e, seq, err := p.scan(rows)
		if err != nil {
			return err
		}
		p.read++
		p.last = seq
		add(e)
		return nil
	}
}
