package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/ivr-project/ivr/internal/testutil"
)

func BenchmarkZZSize(b *testing.B) {
	d := openT(b, sqliteDSN(b))
	ctx := context.Background()
	calls, _ := strconv.Atoi(os.Getenv("SIZE"))
	n := 0
	cpu0 := testutil.ProcessCPU()
	for b.Loop() {
		batch := make([]CallEvents, calls)
		for i := range batch {
			n++
			batch[i] = CallEvents{Provider: "twilio", CallID: fmt.Sprint("CA", n), From: fmt.Sprint("+1415", n), To: "+14155550199", Events: seqEvents(i, 3), New: true}
		}
		if err := d.AddEventBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(testutil.ProcessCPU()-cpu0)/float64(n), "cpu-ns/call")
}
