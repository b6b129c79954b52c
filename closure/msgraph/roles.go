package msgraph

import (
	"context"
	"strings"
	"time"

	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"

	"github.com/closebot/closebot/closure"
)

// principalType maps an expanded principal's @odata.type
// (#microsoft.graph.user, …servicePrincipal, …group) to closure's names.
func principalType(p models.DirectoryObjectable) string {
	if p == nil {
		return ""
	}
	return strings.TrimPrefix(deref(p.GetOdataType()), "#microsoft.graph.")
}

// scheduleInstance is what active and eligible schedule instances share.
func scheduleInstance(a interface {
	models.UnifiedRoleScheduleInstanceBaseable
	GetMemberType() *string
	GetStartDateTime() *time.Time
	GetEndDateTime() *time.Time
}) closure.RoleAssignment {
	return closure.RoleAssignment{
		ID:               deref(a.GetId()),
		RoleDefinitionID: deref(a.GetRoleDefinitionId()),
		PrincipalID:      deref(a.GetPrincipalId()),
		PrincipalType:    principalType(a.GetPrincipal()),
		DirectoryScopeID: deref(a.GetDirectoryScopeId()),
		MemberType:       deref(a.GetMemberType()),
		Start:            utc(a.GetStartDateTime()),
		End:              utc(a.GetEndDateTime()),
	}
}

// RoleAssignments lists active directory role assignments through
// /roleManagement/directory/roleAssignments, which every licence can read
// (rbacapplication-list-roleassignments). Without PIM an assignment is
// permanent and names its principal directly.
func (d *Directory) RoleAssignments(ctx context.Context) ([]closure.RoleAssignment, error) {
	return collect(ctx, d, "list role assignments", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.RoleManagement().Directory().RoleAssignments().Get(ctx,
			&rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
				QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{
					Expand: []string{"principal"},
				},
			})
	}, models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue,
		func(a models.UnifiedRoleAssignmentable) (closure.RoleAssignment, bool) {
			return closure.RoleAssignment{
				ID:               deref(a.GetId()),
				RoleDefinitionID: deref(a.GetRoleDefinitionId()),
				PrincipalID:      deref(a.GetPrincipalId()),
				PrincipalType:    principalType(a.GetPrincipal()),
				DirectoryScopeID: deref(a.GetDirectoryScopeId()),
				AssignmentType:   "Assigned",
				MemberType:       "Direct",
			}, true
		})
}

// ActiveSchedules lists active directory role assignments as role
// assignment schedule instances, so PIM activations show as Activated.
// No $select: Graph keeps $expand with it, but the principal is what we
// need and these entities return every property by default.
func (d *Directory) ActiveSchedules(ctx context.Context) ([]closure.RoleAssignment, error) {
	return collect(ctx, d, "list role assignment schedule instances", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.RoleManagement().Directory().RoleAssignmentScheduleInstances().Get(ctx,
			&rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetRequestConfiguration{
				QueryParameters: &rolemanagement.DirectoryRoleAssignmentScheduleInstancesRequestBuilderGetQueryParameters{
					Expand: []string{"principal"},
				},
			})
	}, models.CreateUnifiedRoleAssignmentScheduleInstanceCollectionResponseFromDiscriminatorValue,
		func(a models.UnifiedRoleAssignmentScheduleInstanceable) (closure.RoleAssignment, bool) {
			ra := scheduleInstance(a)
			ra.AssignmentType = deref(a.GetAssignmentType())
			return ra, true
		})
}

// EligibleAssignments lists PIM-eligible role assignments (role
// eligibility schedule instances).
func (d *Directory) EligibleAssignments(ctx context.Context) ([]closure.RoleAssignment, error) {
	return collect(ctx, d, "list role eligibility schedule instances", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.RoleManagement().Directory().RoleEligibilityScheduleInstances().Get(ctx,
			&rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
				QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{
					Expand: []string{"principal"},
				},
			})
	}, models.CreateUnifiedRoleEligibilityScheduleInstanceCollectionResponseFromDiscriminatorValue,
		func(a models.UnifiedRoleEligibilityScheduleInstanceable) (closure.RoleAssignment, bool) {
			return scheduleInstance(a), true
		})
}

// AdministrativeUnits lists administrative units with their member ids.
func (d *Directory) AdministrativeUnits(ctx context.Context) ([]closure.AdministrativeUnit, error) {
	top := pageSize
	aus, err := collect(ctx, d, "list administrative units", func(ctx context.Context) (serialization.Parsable, error) {
		return d.client.Directory().AdministrativeUnits().Get(ctx, &directory.AdministrativeUnitsRequestBuilderGetRequestConfiguration{
			QueryParameters: &directory.AdministrativeUnitsRequestBuilderGetQueryParameters{
				Top: &top, Select: []string{"id", "displayName", "isMemberManagementRestricted"},
			},
		})
	}, models.CreateAdministrativeUnitCollectionResponseFromDiscriminatorValue, func(a models.AdministrativeUnitable) (closure.AdministrativeUnit, bool) {
		return closure.AdministrativeUnit{
			ID:          deref(a.GetId()),
			DisplayName: deref(a.GetDisplayName()),
			Restricted:  deref(a.GetIsMemberManagementRestricted()),
		}, true
	})
	if err != nil {
		return nil, err
	}
	for i := range aus {
		id := aus[i].ID
		members, err := collect(ctx, d, "list members of administrative unit "+id, func(ctx context.Context) (serialization.Parsable, error) {
			return d.client.Directory().AdministrativeUnits().ByAdministrativeUnitId(id).Members().Get(ctx,
				&directory.AdministrativeUnitsItemMembersRequestBuilderGetRequestConfiguration{
					QueryParameters: &directory.AdministrativeUnitsItemMembersRequestBuilderGetQueryParameters{
						Top: &top, Select: []string{"id"},
					},
				})
		}, models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue, func(m models.DirectoryObjectable) (string, bool) {
			return deref(m.GetId()), m.GetId() != nil
		})
		if err != nil {
			return nil, err
		}
		aus[i].Members = members
	}
	return aus, nil
}
