package login

import "testing"

// BenchmarkParseBody is the parser's cost per login body, for the shape
// partners send and for a form.
func BenchmarkParseBody(b *testing.B) {
	for _, tc := range []struct {
		name string
		body string
		form bool
	}{
		{"json", `{"api_token":"autho_api_WFwsyiwP4nAPGp43W6Br8v8TBoAnFM0qFpaJ","partner_token":"autho_ptn_x8NIk5bQUlOwqS900SIU4IfwAFgQPo4DGSg4"}`, false},
		{"json extra fields", `{"api_token":"autho_api_WFwsyiwP4nAPGp43W6Br8v8TBoAnFM0qFpaJ","partner_token":"autho_ptn_x8NIk5bQUlOwqS900SIU4IfwAFgQPo4DGSg4","client":{"name":"x","v":[1,2.5e3,true,null]}}`, false},
		{"form", `api_token=autho_api_WFwsyiwP4nAPGp43W6Br8v8TBoAnFM0qFpaJ&partner_token=autho_ptn_x8NIk5bQUlOwqS900SIU4IfwAFgQPo4DGSg4`, true},
	} {
		body := []byte(tc.body)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseBody(body, tc.form); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
