-- PostgreSQL keeps a tsvector under 1 MB, and an entry's content may be
-- of 1 MiB: made of distinct words (a hex dump, a log of ids), its
-- document is larger, and the insert or update failed. The document of
-- such content is now that of its beginning, as much as fits, in whole
-- words; the tags are always in it. A document of content under 250 kB
-- always fits (a word and the space after it take at most about three
-- times their bytes in the index, a repeated word less), so the common
-- case takes no subtransaction.

CREATE OR REPLACE FUNCTION pbatunnel_entry_document() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tags    tsvector := setweight(to_tsvector('pbatunnel_search', array_to_string(NEW.tags, ' ')), 'C');
    content text     := NEW.content;
BEGIN
    IF octet_length(content) < 250000 THEN
        NEW.document := setweight(to_tsvector('pbatunnel_search', content), 'D') || tags;
        RETURN NEW;
    END IF;
    LOOP
        BEGIN
            NEW.document := setweight(to_tsvector('pbatunnel_search', content), 'D') || tags;
            RETURN NEW;
        EXCEPTION WHEN program_limit_exceeded THEN
            -- Three quarters of it, without the word cut in two.
            content := regexp_replace(left(content, length(content) * 3 / 4), '\S*$', '');
        END;
    END LOOP;
END $$;
