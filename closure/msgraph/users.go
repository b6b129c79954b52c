package msgraph

import (
	"context"
	"fmt"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/closebot/closebot/closure"
)

// pageSize is Graph's maximum page for directory collections.
const pageSize = int32(999)

// userSelect is what closure.User needs; without $select Graph returns a
// default set lacking userType, accountEnabled and onPremisesSyncEnabled.
var userSelect = []string{"id", "userPrincipalName", "displayName", "userType", "accountEnabled", "onPremisesSyncEnabled"}

func toUser(u models.Userable) closure.User {
	out := closure.User{
		ID:          deref(u.GetId()),
		UPN:         deref(u.GetUserPrincipalName()),
		DisplayName: deref(u.GetDisplayName()),
		UserType:    deref(u.GetUserType()),
		Enabled:     deref(u.GetAccountEnabled()),
		Synced:      deref(u.GetOnPremisesSyncEnabled()),
	}
	if t := u.GetDeletedDateTime(); t != nil {
		out.DeletedAt = t.UTC()
	}
	return out
}

// iterate pages through a collection whose first page get returns, calling
// fn for each item. Each page fetch is retried on its own: PageIterator keeps
// its place when fetching the next page fails, so Iterate resumes there.
func iterate[T any](ctx context.Context, d *Directory, op string, get func(ctx context.Context) (serialization.Parsable, error),
	ctor serialization.ParsableFactory, fn func(T) error) error {
	var first serialization.Parsable
	if err := d.do(ctx, op, func(ctx context.Context) error {
		var err error
		first, err = get(ctx)
		return err
	}); err != nil {
		return err
	}
	it, err := core.NewPageIterator[T](first, d.adapter, ctor)
	if err != nil {
		return fmt.Errorf("%s: page iterator: %w", op, err)
	}
	var fnErr error
	err = d.do(ctx, op, func(ctx context.Context) error {
		return it.Iterate(ctx, func(item T) bool {
			fnErr = fn(item)
			return fnErr == nil
		})
	})
	if err != nil {
		return err
	}
	return fnErr
}

// collect gathers a paged collection into a slice.
func collect[T any, R any](ctx context.Context, d *Directory, op string, get func(ctx context.Context) (serialization.Parsable, error),
	ctor serialization.ParsableFactory, conv func(T) (R, bool)) ([]R, error) {
	var out []R
	err := iterate(ctx, d, op, get, ctor, func(item T) error {
		if r, ok := conv(item); ok {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Users calls fn for every user, 999 per page.
func (d *Directory) Users(ctx context.Context, fn func(closure.User) error) error {
	top := pageSize
	return iterate(ctx, d, "list users", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: &top, Select: userSelect},
		})
	}, models.CreateUserCollectionResponseFromDiscriminatorValue, func(u models.Userable) error {
		return fn(toUser(u))
	})
}

// User reads one user by object id or userPrincipalName.
func (d *Directory) User(ctx context.Context, idOrUPN string) (closure.User, error) {
	var u models.Userable
	err := d.do(ctx, "read user "+idOrUPN, func(ctx context.Context) error {
		var err error
		u, err = d.client.Users().ByUserId(idOrUPN).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
		})
		return err
	})
	if err != nil {
		return closure.User{}, err
	}
	return toUser(u), nil
}

// DeletedUsers lists soft-deleted users.
func (d *Directory) DeletedUsers(ctx context.Context) ([]closure.User, error) {
	top := pageSize
	sel := append(append([]string{}, userSelect...), "deletedDateTime")
	return collect(ctx, d, "list deleted users", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Directory().DeletedItems().GraphUser().Get(ctx, &directory.DeletedItemsGraphUserRequestBuilderGetRequestConfiguration{
			QueryParameters: &directory.DeletedItemsGraphUserRequestBuilderGetQueryParameters{Top: &top, Select: sel},
		})
	}, models.CreateUserCollectionResponseFromDiscriminatorValue, func(u models.Userable) (closure.User, bool) {
		return toUser(u), true
	})
}

// AuthenticationMethods lists the @odata.type of each registered method.
func (d *Directory) AuthenticationMethods(ctx context.Context, userID string) ([]string, error) {
	return collect(ctx, d, "list authentication methods of "+userID, func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Users().ByUserId(userID).Authentication().Methods().Get(ctx, nil)
	}, models.CreateAuthenticationMethodCollectionResponseFromDiscriminatorValue, func(m models.AuthenticationMethodable) (string, bool) {
		return deref(m.GetOdataType()), true
	})
}

// DeleteUser soft-deletes a user; already gone is done.
func (d *Directory) DeleteUser(ctx context.Context, id string) error {
	return d.deleteOp(ctx, "delete user "+id, func(ctx context.Context) error {
		return d.client.Users().ByUserId(id).Delete(ctx, nil)
	})
}

// RestoreUser restores a soft-deleted user.
func (d *Directory) RestoreUser(ctx context.Context, id string) error {
	return d.write(ctx, "restore user "+id, func(ctx context.Context) error {
		_, err := d.client.Directory().DeletedItems().ByDirectoryObjectId(id).Restore().Post(ctx, nil)
		return err
	})
}

// PurgeDeleted permanently deletes a soft-deleted object; already purged is done.
func (d *Directory) PurgeDeleted(ctx context.Context, id string) error {
	return d.deleteOp(ctx, "purge deleted object "+id, func(ctx context.Context) error {
		return d.client.Directory().DeletedItems().ByDirectoryObjectId(id).Delete(ctx, nil)
	})
}

// consistencyEventual is the header Graph's advanced queries ($count) need.
func consistencyEventual() *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("ConsistencyLevel", "eventual")
	return h
}

// utc converts an optional SDK time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
