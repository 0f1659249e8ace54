package xml

import (
	"bytes"
	stdxml "encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// node is a parsed element: enough to assert structure XPath-style.
type node struct {
	XMLName  stdxml.Name
	Attrs    []stdxml.Attr `xml:",any,attr"`
	Children []node        `xml:",any"`
	Text     string        `xml:",chardata"`
}

func (n node) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// childNames lists the element names of n's children, in order.
func (n node) childNames() []string {
	names := make([]string, len(n.Children))
	for i, c := range n.Children {
		names[i] = c.XMLName.Local
	}
	return names
}

// find returns every element at path below root, where path starts with
// root's own name: "Response/Gather/Say".
func find(root node, path string) []node {
	parts := strings.Split(path, "/")
	if parts[0] != root.XMLName.Local {
		return nil
	}
	level := []node{root}
	for _, p := range parts[1:] {
		var next []node
		for _, n := range level {
			for _, c := range n.Children {
				if c.XMLName.Local == p {
					next = append(next, c)
				}
			}
		}
		level = next
	}
	return level
}

// findAll returns every element named name anywhere below root.
func findAll(root node, name string) []node {
	var out []node
	var walk func(n node)
	walk = func(n node) {
		for _, c := range n.Children {
			if c.XMLName.Local == name {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

// parse decodes doc strictly and checks it is one well-formed document with
// the XML declaration and a <Response> root.
func parse(t testing.TB, doc []byte) node {
	t.Helper()
	if err := wellFormed(doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, doc)
	}
	var root node
	if err := stdxml.Unmarshal(doc, &root); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, doc)
	}
	if root.XMLName.Local != "Response" {
		t.Fatalf("root is <%s>, want <Response>", root.XMLName.Local)
	}
	return root
}

// wellFormed reads every token strictly; it also requires the XML
// declaration first and exactly one root element.
func wellFormed(doc []byte) error {
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		return errors.New("no XML declaration")
	}
	d := stdxml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case stdxml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case stdxml.EndElement:
			depth--
		case stdxml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				return errors.New("text outside the root element")
			}
		}
	}
	if roots != 1 {
		return errors.New("want exactly one root element")
	}
	return nil
}
