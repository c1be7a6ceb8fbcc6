package portal

import "context"

// Run deletes ended sessions and old sign-in failures until ctx ends
// (admin.Service.Run). Every node may run it.
func (p *Portal) Run(ctx context.Context) { p.admin.Run(ctx) }
