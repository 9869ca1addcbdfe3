package codeanalysis

import (
	"encoding/json"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	name := os.Getenv("SCRATCH_FILE")
	if name == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(name)
	for _, typ := range Types() {
		res := analyzeOne(t, "x"+os.Getenv("SCRATCH_EXT"), string(data), typ)
		b, _ := json.MarshalIndent(res, "", " ")
		t.Log(string(b))
	}
}
